package main

import (
	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/bluesky"
	"github.com/civicarchive/civicarchive/archiver/platforms/facebook"
	"github.com/civicarchive/civicarchive/archiver/platforms/feed"
	"github.com/civicarchive/civicarchive/archiver/platforms/instagram"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon"
	"github.com/civicarchive/civicarchive/archiver/platforms/x"
	"github.com/civicarchive/civicarchive/archiver/platforms/youtube"
)

// connectors is every platform civicarchive captures.
func connectors() map[string]platforms.Connector {
	m := map[string]platforms.Connector{}
	for _, c := range []platforms.Connector{feed.New(), mastodon.New(), youtube.New(), x.New(), bluesky.New(), facebook.New(), instagram.New()} {
		m[c.Platform()] = c
	}
	return m
}
