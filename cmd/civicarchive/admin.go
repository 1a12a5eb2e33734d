package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/civicarchive/civicarchive/storage"
)

// withCatalog loads the settings, opens the catalog quietly, and runs fn.
func withCatalog(cmd *cobra.Command, e *env, sf *settingsFlags, fn func(ctx context.Context, cat *storage.Catalog) error) error {
	cfg, err := sf.load(e)
	if err != nil {
		return err
	}
	cat, err := openCatalog(cmd.Context(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer cat.Close()
	return fn(cmd.Context(), cat)
}

// cliActor names the person at the terminal in the custody log.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func newTokenCmd(e *env, sf *settingsFlags) *cobra.Command {
	token := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var name, role, department string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token; the token is the last line of the output",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !storage.ValidRole(role) {
				return &exitError{2, fmt.Errorf("--role %q is not one of %s", role, strings.Join(storage.Roles, ", "))}
			}
			if err := storage.CheckDepartment(role, department); err != nil {
				return &exitError{2, err}
			}
			return withCatalog(cmd, e, sf, func(ctx context.Context, cat *storage.Catalog) error {
				var plain string
				err := cat.Tx(ctx, func(tx *storage.Catalog) error {
					p, t, err := tx.CreateTokenIn(ctx, name, role, department, nil)
					if err != nil {
						return err
					}
					plain = p
					_, err = tx.AppendCustody(ctx, storage.NewEvent{Kind: "token_created", Actor: cliActor(),
						SubjectType: "api_token", SubjectID: fmt.Sprint(t.ID), Details: map[string]any{"name": t.Name, "role": t.Role, "department": t.Department}})
					return err
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "Created API token %q with role %s. It is shown only now; store it safely:\n%s\n", name, role, plain)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the token is for, e.g. \"records office laptop\" (required)")
	create.Flags().StringVar(&role, "role", "", "admin, coordinator, clerk, legal or department (required)")
	create.Flags().StringVar(&department, "department", "", "the department of a department head's token (role department)")
	create.MarkFlagRequired("name")
	create.MarkFlagRequired("role")
	token.AddCommand(create)
	return token
}

func newUserCmd(e *env, sf *settingsFlags) *cobra.Command {
	usr := &cobra.Command{Use: "user", Short: "Manage people who sign in to the pages"}
	var n storage.NewUser
	var passwordFile string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a user; the password is asked for on a terminal, or read from --password-file or the first line of standard input",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !storage.ValidRole(n.Role) {
				return &exitError{2, fmt.Errorf("--role %q is not one of %s", n.Role, strings.Join(storage.Roles, ", "))}
			}
			if err := storage.CheckDepartment(n.Role, n.Department); err != nil {
				return &exitError{2, err}
			}
			pw, err := readPassword(e, passwordFile)
			if err != nil {
				return err
			}
			n.Password = pw
			return withCatalog(cmd, e, sf, func(ctx context.Context, cat *storage.Catalog) error {
				return cat.Tx(ctx, func(tx *storage.Catalog) error {
					u, err := tx.CreateUser(ctx, n)
					if err != nil {
						return err
					}
					if _, err := tx.AppendCustody(ctx, storage.NewEvent{Kind: "user_created", Actor: cliActor(),
						SubjectType: "user", SubjectID: fmt.Sprint(u.ID), Details: map[string]any{"username": u.Username, "role": u.Role, "department": u.Department}}); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "Created user %s with role %s.\n", u.Username, u.Role)
					return nil
				})
			})
		},
	}
	f := create.Flags()
	f.StringVar(&n.Username, "username", "", "login name (required)")
	f.StringVar(&n.Role, "role", "", "admin, coordinator, clerk, legal or department (required)")
	f.StringVar(&n.Department, "department", "", "a department head's department, as accounts name it (role department)")
	f.StringVar(&n.DisplayName, "display-name", "", "full name shown on pages")
	f.StringVar(&passwordFile, "password-file", "", "read the password from this file's first line")
	create.MarkFlagRequired("username")
	create.MarkFlagRequired("role")
	var newRole, newDept string
	role := &cobra.Command{
		Use:   "role USERNAME",
		Short: "Change a user's role (and department); a custody event, and the user's sessions end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !storage.ValidRole(newRole) {
				return &exitError{2, fmt.Errorf("--role %q is not one of %s", newRole, strings.Join(storage.Roles, ", "))}
			}
			if err := storage.CheckDepartment(newRole, newDept); err != nil {
				return &exitError{2, err}
			}
			return withCatalog(cmd, e, sf, func(ctx context.Context, cat *storage.Catalog) error {
				u, err := cat.SetUserRole(ctx, args[0], newRole, newDept, cliActor())
				if errors.Is(err, storage.ErrNotFound) {
					return &exitError{1, fmt.Errorf("no user %q", args[0])}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "User %s now has role %s.\n", u.Username, u.Role)
				return nil
			})
		},
	}
	role.Flags().StringVar(&newRole, "role", "", "admin, coordinator, clerk, legal or department (required)")
	role.Flags().StringVar(&newDept, "department", "", "the department, for role department")
	role.MarkFlagRequired("role")
	usr.AddCommand(create, role)
	return usr
}

// readPassword takes the new password without it ever being a flag (flags
// show up in process lists and shell history).
func readPassword(e *env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r"), nil
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newCustodyCmd(e *env, sf *settingsFlags) *cobra.Command {
	custody := &cobra.Command{Use: "custody", Aliases: []string{"audit"}, Short: "The hash-chained custody and audit log (also: civicarchive audit verify)"}
	custody.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Check the custody log's hash chain; exit 1 naming the first broken event",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCatalog(cmd, e, sf, func(ctx context.Context, cat *storage.Catalog) error {
				n, err := cat.VerifyCustody(ctx)
				var ce *storage.ChainError
				if errors.As(err, &ce) {
					return fmt.Errorf("custody log broken: %w (%d events before it are intact)", err, n)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "custody log intact: %d events verified\n", n)
				return nil
			})
		},
	})
	return custody
}

// newHealthcheckCmd is the container's health check: it asks the running
// server's /healthz through the same binary (distroless has no curl).
func newHealthcheckCmd(e *env, sf *settingsFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the server at the listen address answers /healthz",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := sf.load(e)
			if err != nil {
				return err
			}
			host, port, _ := net.SplitHostPort(cfg.Listen)
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			client := &http.Client{Timeout: 3 * time.Second}
			resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthz answered %s", resp.Status)
			}
			fmt.Fprintln(e.stdout, "ok")
			return nil
		},
	}
}
