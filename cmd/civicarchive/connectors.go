package main

import (
	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/feed"
)

// connectors is every platform civicarchive captures.
func connectors() map[string]platforms.Connector {
	m := map[string]platforms.Connector{}
	for _, c := range []platforms.Connector{feed.New()} {
		m[c.Platform()] = c
	}
	return m
}
