package x

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// The X API v2 payloads this connector reads, with the field names of the
// official data dictionary (Tweet, User and Media objects, the response
// envelope with data / includes / meta / errors).

// user is the X API v2 User object.
type user struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Username        string        `json:"username"`
	Description     string        `json:"description"`
	URL             string        `json:"url"`
	ProfileImageURL string        `json:"profile_image_url"`
	Verified        bool          `json:"verified"`
	Entities        *userEntities `json:"entities"`
}

// userEntities holds the expanded forms of the t.co links of a profile.
type userEntities struct {
	URL         *entities `json:"url"`
	Description *entities `json:"description"`
}

// tweet is the X API v2 Tweet object, with the fields the connector asks for.
type tweet struct {
	ID                  string      `json:"id"`
	Text                string      `json:"text"`
	CreatedAt           string      `json:"created_at"`
	AuthorID            string      `json:"author_id"`
	ConversationID      string      `json:"conversation_id"`
	InReplyToUserID     string      `json:"in_reply_to_user_id"`
	ReferencedTweets    []reference `json:"referenced_tweets"`
	EditHistoryTweetIDs []string    `json:"edit_history_tweet_ids"`
	Attachments         *struct {
		MediaKeys []string `json:"media_keys"`
	} `json:"attachments"`
	Entities  *entities `json:"entities"`
	NoteTweet *struct {
		Text string `json:"text"`
	} `json:"note_tweet"`
}

// reference is one entry of referenced_tweets.
type reference struct {
	Type string `json:"type"` // replied_to, quoted, retweeted
	ID   string `json:"id"`
}

// entities holds the parts of a text X parsed out; only links matter here.
type entities struct {
	URLs []urlEntity `json:"urls"`
}

// urlEntity is a t.co link and what it stands for.
type urlEntity struct {
	Start       int    `json:"start"`
	End         int    `json:"end"`
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url"`
	DisplayURL  string `json:"display_url"`
	UnwoundURL  string `json:"unwound_url"`
}

// media is the X API v2 Media object (includes.media).
type media struct {
	MediaKey        string    `json:"media_key"`
	Type            string    `json:"type"` // photo, video, animated_gif
	URL             string    `json:"url"`
	PreviewImageURL string    `json:"preview_image_url"`
	AltText         string    `json:"alt_text"`
	Variants        []variant `json:"variants"`
}

// variant is one encoding of a video or GIF.
type variant struct {
	BitRate     int    `json:"bit_rate"`
	ContentType string `json:"content_type"`
	URL         string `json:"url"`
}

// includes holds the expanded objects of a response.
type includes struct {
	Media  []media `json:"media"`
	Users  []user  `json:"users"`
	Tweets []tweet `json:"tweets"`
}

// meta is the paging part of a listing response.
type meta struct {
	ResultCount int    `json:"result_count"`
	NewestID    string `json:"newest_id"`
	OldestID    string `json:"oldest_id"`
	NextToken   string `json:"next_token"`
}

// problem is one entry of a response's errors array (partial errors sit
// beside data in a 200 answer).
type problem struct {
	Value        string `json:"value"`
	Detail       string `json:"detail"`
	Title        string `json:"title"`
	ResourceType string `json:"resource_type"`
	Parameter    string `json:"parameter"`
	ResourceID   string `json:"resource_id"`
	Type         string `json:"type"`
}

// notFoundType is the problem type X gives a missing user or tweet.
const notFoundType = "https://api.twitter.com/2/problems/resource-not-found"

// userResponse answers GET /2/users/by/username/:username.
type userResponse struct {
	Data   *user     `json:"data"`
	Errors []problem `json:"errors"`
}

// tweetsResponse answers the timeline, the searches and GET /2/tweets.
type tweetsResponse struct {
	Data     []tweet   `json:"data"`
	Includes includes  `json:"includes"`
	Meta     *meta     `json:"meta"`
	Errors   []problem `json:"errors"`
}

// decodeObject unmarshals body into v, insisting on a JSON object.
func decodeObject(body []byte, v any) error {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", platforms.ErrMalformed)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", platforms.ErrMalformed, err)
	}
	return nil
}

// decodeUser reads a user lookup. A 200 with only errors (no such user)
// is ErrNotFound; anything without a user id is ErrMalformed.
func decodeUser(body []byte) (*user, error) {
	var r userResponse
	if err := decodeObject(body, &r); err != nil {
		return nil, err
	}
	if r.Data == nil {
		for _, p := range r.Errors {
			if p.Type == notFoundType || p.Title == "Not Found Error" {
				return nil, fmt.Errorf("%w: %s", platforms.ErrNotFound, p.Detail)
			}
		}
		return nil, fmt.Errorf("%w: user lookup without data", platforms.ErrMalformed)
	}
	if r.Data.ID == "" {
		return nil, fmt.Errorf("%w: user without id", platforms.ErrMalformed)
	}
	return r.Data, nil
}

// decodeTweets reads a page of tweets. Listings (timeline, search) must
// carry meta; an empty page omits data and is valid. A lookup (GET
// /2/tweets) carries data, errors or both. Every tweet needs an id.
func decodeTweets(body []byte, listing bool) (*tweetsResponse, error) {
	var r tweetsResponse
	if err := decodeObject(body, &r); err != nil {
		return nil, err
	}
	if listing && r.Meta == nil {
		for _, p := range r.Errors {
			if p.Type == notFoundType && r.Data == nil {
				return nil, fmt.Errorf("%w: %s", platforms.ErrNotFound, p.Detail)
			}
		}
		return nil, fmt.Errorf("%w: listing without meta", platforms.ErrMalformed)
	}
	if !listing && r.Data == nil && len(r.Errors) == 0 {
		return nil, fmt.Errorf("%w: lookup with neither data nor errors", platforms.ErrMalformed)
	}
	for _, t := range r.Data {
		if t.ID == "" {
			return nil, fmt.Errorf("%w: tweet without id", platforms.ErrMalformed)
		}
	}
	return &r, nil
}
