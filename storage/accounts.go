package storage

import (
	"context"
	"fmt"
	"time"
)

// Account statuses and approvals.
const (
	AccountActive      = "active"
	AccountPaused      = "paused"
	AccountDeactivated = "deactivated"
	ApprovalApproved   = "approved"
	ApprovalPending    = "pending"
	ApprovalRejected   = "rejected"
	HealthOK           = "ok"
	HealthUnhealthy    = "unhealthy"
	HealthUnknown      = "unknown"
)

// CreateAccount stores a new account and its custody event in one
// transaction. The credential must already be sealed.
func (c *Catalog) CreateAccount(ctx context.Context, a *Account, actor string) error {
	return c.Tx(ctx, func(tx *Catalog) error {
		if err := tx.gdb(ctx).Create(a).Error; err != nil {
			return fmt.Errorf("storage: create account: %w", mapErr(err))
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "account_registered", Actor: actor, SubjectType: "account",
			SubjectID: fmt.Sprint(a.ID), Details: map[string]any{"platform": a.Platform, "handle": a.Handle, "native_id": a.NativeID, "api_base": a.APIBase}})
		return err
	})
}

// AccountByID returns one account.
func (c *Catalog) AccountByID(ctx context.Context, id uint64) (*Account, error) {
	var a Account
	if err := c.gdb(ctx).First(&a, id).Error; err != nil {
		return nil, fmt.Errorf("storage: account %d: %w", id, mapErr(err))
	}
	return &a, nil
}

// ListAccounts returns every account, by id.
func (c *Catalog) ListAccounts(ctx context.Context) ([]Account, error) {
	var as []Account
	err := c.gdb(ctx).Order("id").Find(&as).Error
	return as, err
}

// CapturableAccounts returns the accounts that are captured: active and
// approved.
func (c *Catalog) CapturableAccounts(ctx context.Context) ([]Account, error) {
	var as []Account
	err := c.gdb(ctx).Where("status = ? AND approval = ?", AccountActive, ApprovalApproved).Order("id").Find(&as).Error
	return as, err
}

// RecordAccountHealth notes the outcome of a run on the account: success
// resets the failure count; a failure counts up, and an auth failure or
// three in a row make the account unhealthy.
func (c *Catalog) RecordAccountHealth(ctx context.Context, id uint64, runErr string, authFailure, full bool, at time.Time) error {
	var a Account
	if err := c.gdb(ctx).First(&a, id).Error; err != nil {
		return mapErr(err)
	}
	upd := map[string]any{"last_run_at": at}
	if runErr == "" {
		upd["health"], upd["last_error"], upd["consecutive_failures"], upd["last_success_at"] = HealthOK, "", 0, at
		if full {
			upd["last_full_sweep_at"] = at
		}
	} else {
		n := a.ConsecutiveFailures + 1
		upd["consecutive_failures"], upd["last_error"] = n, runErr
		if authFailure || n >= 3 {
			upd["health"] = HealthUnhealthy
		}
	}
	return c.gdb(ctx).Model(&Account{}).Where("id = ?", id).Updates(upd).Error
}
