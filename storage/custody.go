package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// GenesisHash is the PrevHash of the first custody event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// NewEvent is what a caller says about a custody event; the log adds the
// sequence number, time and hashes.
type NewEvent struct {
	Kind        string // capture, export, hold, release, removal, policy_decision, login, …
	Actor       string // "user:alice", "token:ci", "system:archiver"
	SubjectType string // item, account, export, hold, request, …
	SubjectID   string
	Details     any // marshalled to JSON
}

// ChainError names the first custody event that breaks the chain.
type ChainError struct {
	Seq    uint64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("custody: event %d: %s", e.Seq, e.Reason)
}

// eventHash is the SHA-256 of the event's canonical form: its fields in a
// fixed order as JSON (which escapes every separator), ending with the hash
// of the event before it.
func eventHash(e *CustodyEvent) string {
	canon, _ := json.Marshal([]any{
		e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.Kind, e.Actor,
		e.SubjectType, e.SubjectID, e.Details, e.PrevHash,
	})
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

// AppendCustody adds one event to the log. Call it on a Catalog from Tx to
// commit the event with the rows it describes; otherwise it runs in its own
// transaction.
func (c *Catalog) AppendCustody(ctx context.Context, n NewEvent) (*CustodyEvent, error) {
	if strings.TrimSpace(n.Kind) == "" || strings.TrimSpace(n.Actor) == "" {
		return nil, errors.New("storage: custody: kind and actor are required")
	}
	details := []byte("{}")
	if n.Details != nil {
		b, err := json.Marshal(n.Details)
		if err != nil {
			return nil, fmt.Errorf("storage: custody: details: %w", err)
		}
		details = b
	}
	var ev *CustodyEvent
	err := c.gdb(ctx).Transaction(func(tx *gorm.DB) error {
		head, err := c.lockHead(tx)
		if err != nil {
			return err
		}
		ev = &CustodyEvent{
			Seq: head.Seq + 1,
			// Microseconds: what both SQLite and PostgreSQL keep, so the
			// time read back hashes the same as the time written.
			At:   time.Now().UTC().Truncate(time.Microsecond),
			Kind: n.Kind, Actor: n.Actor, SubjectType: n.SubjectType, SubjectID: n.SubjectID,
			Details: string(details), PrevHash: head.Hash,
		}
		ev.Hash = eventHash(ev)
		if err := tx.Create(ev).Error; err != nil {
			return err
		}
		return tx.Model(&CustodyHead{}).Where("id = 1").Updates(map[string]any{"seq": ev.Seq, "hash": ev.Hash}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("storage: custody append: %w", err)
	}
	return ev, nil
}

// lockHead reads the head row under a lock that serialises appends: on
// PostgreSQL a row lock; on SQLite the immediate transaction already holds
// the database's single write lock.
func (c *Catalog) lockHead(tx *gorm.DB) (CustodyHead, error) {
	var head CustodyHead
	q := "SELECT id, seq, hash FROM custody_heads WHERE id = 1"
	if c.dialect == "postgres" {
		q += " FOR UPDATE"
	}
	if err := tx.Raw(q).Scan(&head).Error; err != nil {
		return head, err
	}
	if head.ID != 1 {
		return head, errors.New("the log's head record is missing")
	}
	return head, nil
}

// VerifyCustody walks the whole log in order and returns a *ChainError for
// the first event that was edited, deleted, inserted or reordered, and the
// number of events checked.
func (c *Catalog) VerifyCustody(ctx context.Context) (uint64, error) {
	prev := GenesisHash
	var want uint64 = 1
	var batch []CustodyEvent
	err := c.gdb(ctx).Order("seq").FindInBatches(&batch, 1000, func(tx *gorm.DB, _ int) error {
		for i := range batch {
			e := &batch[i]
			switch {
			case e.Seq != want:
				return &ChainError{Seq: want, Reason: fmt.Sprintf("missing; the next event present is %d", e.Seq)}
			case e.PrevHash != prev:
				return &ChainError{Seq: e.Seq, Reason: "does not link to the event before it (reordered, or the one before was changed or removed)"}
			case eventHash(e) != e.Hash:
				return &ChainError{Seq: e.Seq, Reason: "content does not match its hash (edited)"}
			}
			prev, want = e.Hash, want+1
		}
		return nil
	}).Error
	if err != nil {
		var ce *ChainError
		if errors.As(err, &ce) {
			return want - 1, ce
		}
		return want - 1, fmt.Errorf("storage: custody verify: %w", err)
	}
	var head CustodyHead
	herr := c.gdb(ctx).First(&head, 1).Error
	switch {
	case errors.Is(herr, gormNotFound):
		if want > 1 {
			return want - 1, &ChainError{Seq: want - 1, Reason: "the log's head record is missing"}
		}
	case herr != nil:
		return want - 1, fmt.Errorf("storage: custody verify: head: %w", herr)
	case head.Seq != want-1 || head.Hash != prev:
		return want - 1, &ChainError{Seq: want, Reason: fmt.Sprintf("missing; the log recorded %d events but %d are present (events removed from the end)", head.Seq, want-1)}
	}
	return want - 1, nil
}

// CustodyEvents returns events for a subject, oldest first.
func (c *Catalog) CustodyEvents(ctx context.Context, subjectType, subjectID string) ([]CustodyEvent, error) {
	var evs []CustodyEvent
	err := c.gdb(ctx).Where("subject_type = ? AND subject_id = ?", subjectType, subjectID).Order("seq").Find(&evs).Error
	return evs, err
}
