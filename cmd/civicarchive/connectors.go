package main

import (
	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// connectors is every platform civicarchive captures.
func connectors() map[string]platforms.Connector {
	m := map[string]platforms.Connector{}
	for _, c := range []platforms.Connector{} {
		m[c.Platform()] = c
	}
	return m
}
