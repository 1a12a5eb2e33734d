package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/search"
	"github.com/civicarchive/civicarchive/storage"
)

func indexDir(cfg configs.Config) string { return filepath.Join(cfg.DataDir, "index") }

func newReindexCmd(e *env, sf *settingsFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the catalog (stop the server first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := sf.load(e)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cat, err := openCatalog(ctx, cfg, newLogger(cfg, io.Discard))
			if err != nil {
				return err
			}
			defer cat.Close()
			idx, _, err := search.Open(indexDir(cfg), nil)
			if errors.Is(err, search.ErrBusy) {
				return fmt.Errorf("%w: stop the server first (only one process may write the index)", err)
			}
			if err != nil {
				return err
			}
			defer idx.Close()
			start := time.Now()
			bar := newBar(e, "reindexing")
			err = idx.Rebuild(ctx, cat, func(done, total int) {
				if bar != nil {
					bar.ChangeMax(total)
					bar.Set(done)
				}
			})
			if bar != nil {
				bar.Finish()
				fmt.Fprintln(e.stderr)
			}
			if err != nil {
				return err
			}
			n, _ := idx.DocCount()
			fmt.Fprintf(e.stdout, "reindexed %d items in %s\n", n, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// newBar draws a progress bar only on a terminal; scripts and CI get none.
func newBar(e *env, what string) *progressbar.ProgressBar {
	f, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(-1, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("items"),
		progressbar.OptionThrottle(100*time.Millisecond))
}

// cliHit is one search hit as the command prints it with --json: the API's
// shape, so scripts can use either.
type cliHit struct {
	ItemID         uint64              `json:"item_id"`
	NativeID       string              `json:"native_id"`
	Platform       string              `json:"platform"`
	Kind           string              `json:"kind"`
	Text           string              `json:"text"`
	Highlights     map[string][]string `json:"highlights"`
	CreatedAt      *time.Time          `json:"created_at"`
	DeletedAt      *time.Time          `json:"deleted_at"`
	MatchedVersion int                 `json:"matched_version"`
}

type cliResult struct {
	Total         uint64                         `json:"total"`
	Hits          []cliHit                       `json:"hits"`
	Facets        map[string][]search.FacetCount `json:"facets"`
	NextPageToken *string                        `json:"next_page_token"`
}

func newSearchCmd(e *env, sf *settingsFlags) *cobra.Command {
	var asJSON bool
	var size int
	var token string
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search everything captured, every version, deleted items too",
		Long: "Search everything captured. With the server stopped it reads the index directly;\n" +
			"while the server runs it asks the server (set CIVICARCHIVE_TOKEN or --token to an API token).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := sf.load(e)
			if err != nil {
				return err
			}
			if token == "" {
				token = e.getenv("CIVICARCHIVE_TOKEN")
			}
			res, err := searchLocal(cmd.Context(), cfg, args[0], size)
			if errors.Is(err, search.ErrBusy) {
				if token == "" {
					return fmt.Errorf("%w: the server is running; set CIVICARCHIVE_TOKEN (or --token) to search through it", err)
				}
				res, err = searchServer(cmd.Context(), cfg, token, args[0], size)
			}
			if err != nil {
				return err
			}
			return printResult(e.stdout, res, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (the API's shape)")
	cmd.Flags().IntVar(&size, "size", 20, fmt.Sprintf("hits to show (at most %d)", search.MaxPageSize))
	cmd.Flags().StringVar(&token, "token", "", "API token, to search through a running server (default $CIVICARCHIVE_TOKEN)")
	return cmd
}

func searchLocal(ctx context.Context, cfg configs.Config, q string, size int) (*cliResult, error) {
	idx, _, err := search.Open(indexDir(cfg), nil)
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	cat, err := openCatalog(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	// Bring the index up to date first: a stopped server may have left
	// captures unindexed.
	if _, err := idx.CatchUp(ctx, cat); err != nil {
		return nil, err
	}
	res, err := idx.Search(ctx, search.Request{Query: q, Size: size})
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, 0, len(res.Hits))
	for _, h := range res.Hits {
		ids = append(ids, h.ItemID)
	}
	items, err := cat.ItemsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := &cliResult{Total: res.Total, Facets: res.Facets, Hits: []cliHit{}}
	if res.NextPageToken != "" {
		out.NextPageToken = &res.NextPageToken
	}
	for _, h := range res.Hits {
		it, ok := items[h.ItemID]
		if !ok {
			continue
		}
		out.Hits = append(out.Hits, toCLIHit(it, h))
	}
	return out, nil
}

func toCLIHit(it storage.Item, h search.Hit) cliHit {
	return cliHit{ItemID: it.ID, NativeID: it.NativeID, Platform: it.Platform, Kind: it.Kind, Text: it.Text,
		Highlights: h.Highlights, CreatedAt: it.PlatformCreatedAt, DeletedAt: it.DeletedAt, MatchedVersion: h.MatchedVersion}
}

// searchServer asks the running server's API.
func searchServer(ctx context.Context, cfg configs.Config, token, q string, size int) (*cliResult, error) {
	host, port, _ := net.SplitHostPort(cfg.Listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	u := "http://" + net.JoinHostPort(host, port) + "/api/v1/search?" + url.Values{"q": {q}, "size": {fmt.Sprint(size)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if resp.StatusCode != http.StatusOK {
		var eb struct {
			Error struct{ Message string }
		}
		json.Unmarshal(body, &eb)
		return nil, fmt.Errorf("server answered %s: %s", resp.Status, eb.Error.Message)
	}
	var out cliResult
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("server answer: %w", err)
	}
	return &out, nil
}

var markRE = regexp.MustCompile(`</?mark>`)

func printResult(w io.Writer, r *cliResult, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(w, "%d items match\n", r.Total)
	for _, h := range r.Hits {
		state := ""
		if h.DeletedAt != nil {
			state = " [deleted " + h.DeletedAt.Format("2006-01-02") + "]"
		}
		fmt.Fprintf(w, "\n#%d %s %s %s%s, matched version %d\n", h.ItemID, h.Platform, h.Kind, h.NativeID, state, h.MatchedVersion)
		snippet := h.Text
		for _, f := range []string{"versions", "text"} {
			if frags := h.Highlights[f]; len(frags) > 0 {
				snippet = markRE.ReplaceAllString(frags[0], "*")
				break
			}
		}
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(strings.TrimSpace(html.UnescapeString(snippet)), "\n", " "))
	}
	return nil
}
