// Command seed is the platform the browser tests capture from: a fake
// Mastodon instance (mastodontest) serving platformtest.Seed's small city
// account on a loopback port. It prints one JSON line with what registering
// the account needs, then serves until it is stopped (SIGINT or SIGTERM).
//
// POST /_control/edit-and-delete changes the account as a platform would:
// the road-closure post is edited (the word "parade" is gone from it) and
// the comment asking about the library is deleted. Capturing again then
// gives the post a second version and the comment a deletion mark.
//
// Usage: go run ./scripts/e2e/seed
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// EditedText is the road-closure post after the edit.
const EditedText = "Main St closed between 1st and 3rd Ave on Saturday for the street fair 🎉"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run() error {
	w := platformtest.NewWorld(time.Now().UTC().Add(-72*time.Hour).Truncate(time.Minute),
		platformtest.Profile{ID: "42", Handle: "clintoncity", DisplayName: "City of Clinton"})
	platformtest.Seed(w)
	// A thread for the coordinator's review (policy screening): one comment
	// breaks the policy (profanity), one does not.
	dogs := w.AddPost("Dog park", "The new dog park on 1300 North opens Monday. Leashes off inside the fence only.")
	w.AddComment(dogs, "", "Rex Owner", "These dog park rules are d*mn stupid, you sh1t-for-brains council")
	w.AddComment(dogs, "", "Fido Fan", "Nice work on the dog park, thank you!")
	road, library, err := find(w)
	if err != nil {
		return err
	}
	var once sync.Once
	control := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/_control/edit-and-delete" {
				next.ServeHTTP(rw, r)
				return
			}
			if r.Method != http.MethodPost {
				http.Error(rw, "POST only", http.StatusMethodNotAllowed)
				return
			}
			once.Do(func() {
				w.Edit(road, EditedText)
				w.Delete(library)
			})
			rw.WriteHeader(http.StatusNoContent)
		})
	}
	srv := mastodontest.NewServer(w, mastodontest.WithMiddleware(control))
	defer srv.Close()
	a := srv.Account()
	line, err := json.Marshal(map[string]string{"api_base": srv.APIBase(), "handle": a.Handle, "native_id": a.NativeID, "credential": srv.Credential()})
	if err != nil {
		return err
	}
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	return nil
}

// find returns the world ids of the road-closure post and of the comment
// that mentions the library.
func find(w *platformtest.World) (road, library string, err error) {
	for _, p := range w.Posts() {
		if p.Title != "Road closure" {
			continue
		}
		road = p.ID
		for _, c := range w.Thread(p.ID) {
			if strings.Contains(c.Text, "library") {
				library = c.ID
			}
		}
	}
	if road == "" || library == "" {
		return "", "", fmt.Errorf("the seeded world has no road-closure post with a library comment")
	}
	return road, library, nil
}
