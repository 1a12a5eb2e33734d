package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The YAML form; see configs/calendar/utah.yaml for a commented example.
// Keys are checked by hand (knownKeys) rather than with KnownFields so an
// error can name the rule it is in.
type fileYAML struct {
	Version   string      `yaml:"version"`
	Name      string      `yaml:"name"`
	Source    string      `yaml:"source"`
	FirstYear int         `yaml:"first_year"`
	LastYear  int         `yaml:"last_year"`
	Rules     []yaml.Node `yaml:"rules"`
	Closures  []yaml.Node `yaml:"closures"`
}

type ruleYAML struct {
	Name       string      `yaml:"name"`
	FromYear   int         `yaml:"from_year"`
	ToYear     int         `yaml:"to_year"`
	Fixed      *fixedYAML  `yaml:"fixed"`
	Observe    yaml.Node   `yaml:"observe"` // Kind 0 when absent
	NthWeekday *nthYAML    `yaml:"nth_weekday"`
	Easter     *easterYAML `yaml:"easter"`
}

type fixedYAML struct {
	Month int `yaml:"month"`
	Day   int `yaml:"day"`
}

type nthYAML struct {
	Month   int    `yaml:"month"`
	Weekday string `yaml:"weekday"`
	N       int    `yaml:"n"`
}

type easterYAML struct {
	Offset int `yaml:"offset"`
}

type closureYAML struct {
	Date string `yaml:"date"`
	Name string `yaml:"name"`
}

var (
	fileKeys    = []string{"version", "name", "source", "first_year", "last_year", "rules", "closures"}
	ruleKeys    = []string{"name", "from_year", "to_year", "fixed", "observe", "nth_weekday", "easter"}
	closureKeys = []string{"date", "name"}
	kindKeys    = []struct {
		kind string
		keys []string
	}{
		{"fixed", []string{"month", "day"}},
		{"nth_weekday", []string{"month", "weekday", "n"}},
		{"easter", []string{"offset"}},
	}
)

// Parse reads a calendar from YAML, refusing unknown keys, and validates it.
// Errors name the rule (by number from 1 and by name) and the field.
func Parse(data []byte) (*Calendar, error) {
	top, err := document(data)
	if err != nil {
		return nil, err
	}
	if err := knownKeys(top, "the calendar", fileKeys); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	for _, key := range []string{"rules", "closures"} {
		if c := child(top, key); c != nil && c.Kind != yaml.SequenceNode && c.Tag != "!!null" {
			return nil, fmt.Errorf("calendar: line %d: %s: want a list", c.Line, key)
		}
	}
	var f fileYAML
	if err := top.Decode(&f); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	c := &Calendar{Version: f.Version, Name: f.Name, Source: f.Source,
		FirstYear: f.FirstYear, LastYear: f.LastYear}
	for i := range f.Rules {
		r, err := parseRule(&f.Rules[i])
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: %w", ruleLabel(i, nameOf(&f.Rules[i])), err)
		}
		c.Rules = append(c.Rules, r)
	}
	for i := range f.Closures {
		cl, err := parseClosure(&f.Closures[i])
		if err != nil {
			return nil, fmt.Errorf("calendar: closure %d: %w", i+1, err)
		}
		c.Closures = append(c.Closures, cl)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// document returns the top mapping of data, which must hold exactly one
// YAML document.
func document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("calendar: empty document")
		}
		return nil, fmt.Errorf("calendar: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("calendar: want exactly one YAML document")
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("calendar: line %d: want a mapping with keys %s", doc.Line, strings.Join(fileKeys, ", "))
	}
	return doc.Content[0], nil
}

func parseRule(n *yaml.Node) (Rule, error) {
	if err := knownKeys(n, "a rule", ruleKeys); err != nil {
		return Rule{}, err
	}
	for _, k := range kindKeys {
		if c := child(n, k.kind); c != nil && c.Tag != "!!null" {
			if err := knownKeys(c, k.kind, k.keys); err != nil {
				return Rule{}, err
			}
		}
	}
	var ry ruleYAML
	if err := n.Decode(&ry); err != nil {
		return Rule{}, err
	}
	r := Rule{Name: ry.Name, FromYear: ry.FromYear, ToYear: ry.ToYear}
	if ry.Easter != nil {
		r.Easter = &EasterOffset{Offset: ry.Easter.Offset}
	}
	if ry.NthWeekday != nil {
		wd, err := parseWeekday(ry.NthWeekday.Weekday)
		if err != nil {
			return Rule{}, fmt.Errorf("nth_weekday.weekday: %w", err)
		}
		r.NthWeekday = &NthWeekday{Month: time.Month(ry.NthWeekday.Month), Weekday: wd, N: ry.NthWeekday.N}
	}
	if ry.Fixed == nil {
		if ry.Observe.Kind != 0 {
			return Rule{}, fmt.Errorf("line %d: observe: only a fixed rule has an observance", ry.Observe.Line)
		}
		return r, nil
	}
	obs, err := parseObserve(&ry.Observe)
	if err != nil {
		return Rule{}, fmt.Errorf("observe: %w", err)
	}
	r.Fixed = &FixedDate{Month: time.Month(ry.Fixed.Month), Day: ry.Fixed.Day, Observe: obs}
	return r, nil
}

// parseObserve reads a preset name or a weekday → days map. A missing
// observe gives the zero Observe, which Validate refuses.
func parseObserve(n *yaml.Node) (Observe, error) {
	n = deref(n)
	switch {
	case n == nil || n.Kind == 0 || n.Tag == "!!null":
		return Observe{}, nil
	case n.Kind == yaml.ScalarNode:
		return Observe{Preset: n.Value}, nil
	case n.Kind != yaml.MappingNode:
		return Observe{}, fmt.Errorf("line %d: want a preset name or a map such as {saturday: -1, sunday: 1}", n.Line)
	}
	shifts := make(map[time.Weekday]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		wd, err := parseWeekday(k.Value)
		if err != nil {
			return Observe{}, fmt.Errorf("line %d: %w", k.Line, err)
		}
		if _, dup := shifts[wd]; dup {
			return Observe{}, fmt.Errorf("line %d: %s given twice", k.Line, k.Value)
		}
		var days int
		if err := v.Decode(&days); err != nil {
			return Observe{}, fmt.Errorf("%s: %w", k.Value, err)
		}
		shifts[wd] = days
	}
	return Observe{Shifts: shifts}, nil
}

func parseClosure(n *yaml.Node) (Closure, error) {
	if err := knownKeys(n, "a closure", closureKeys); err != nil {
		return Closure{}, err
	}
	var cy closureYAML
	if err := n.Decode(&cy); err != nil {
		return Closure{}, err
	}
	d, err := parseDate(cy.Date)
	if err != nil {
		return Closure{}, err
	}
	return Closure{Date: d, Name: cy.Name}, nil
}

// parseWeekday reads a full English weekday name in any case.
func parseWeekday(s string) (time.Weekday, error) {
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if strings.EqualFold(s, wd.String()) {
			return wd, nil
		}
	}
	return 0, fmt.Errorf("%q is not a weekday: want monday, tuesday, … sunday", s)
}

// knownKeys refuses a node that is not a mapping or has a key not in keys.
func knownKeys(n *yaml.Node, what string, keys []string) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s: want a mapping with keys %s", n.Line, what, strings.Join(keys, ", "))
	}
	for i := 0; i < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if !slices.Contains(keys, k.Value) {
			return fmt.Errorf("line %d: unknown key %q in %s (want %s)", k.Line, k.Value, what, strings.Join(keys, ", "))
		}
	}
	return nil
}

// child returns the value under key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if deref(n.Content[i]).Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// nameOf returns a rule node's name for error messages, if it has one.
func nameOf(n *yaml.Node) string {
	if c := child(n, "name"); c != nil && c.Kind == yaml.ScalarNode {
		return c.Value
	}
	return ""
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// Marshal writes the calendar as YAML that Parse reads back to an equal
// Calendar. It refuses a calendar that does not validate.
func (c *Calendar) Marshal() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	root := mapNode(false, kv{"version", strNode(c.Version)}, kv{"name", strNode(c.Name)},
		kv{"source", strNode(c.Source)}, kv{"first_year", intNode(c.FirstYear)},
		kv{"last_year", intNode(c.LastYear)})
	rules := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range c.Rules {
		rules.Content = append(rules.Content, ruleNode(r))
	}
	root.add(kv{"rules", rules})
	if len(c.Closures) > 0 {
		cls := &yaml.Node{Kind: yaml.SequenceNode}
		for _, cl := range c.Closures {
			// Tagged as a timestamp so it is written unquoted.
			date := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: cl.Date.Format(dateLayout)}
			cls.Content = append(cls.Content, mapNode(false, kv{"date", date}, kv{"name", strNode(cl.Name)}).Node)
		}
		root.add(kv{"closures", cls})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root.Node); err != nil {
		return nil, fmt.Errorf("calendar: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("calendar: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

func ruleNode(r Rule) *yaml.Node {
	n := mapNode(false, kv{"name", strNode(r.Name)})
	switch {
	case r.Fixed != nil:
		n.add(kv{"fixed", mapNode(true, kv{"month", intNode(int(r.Fixed.Month))}, kv{"day", intNode(r.Fixed.Day)}).Node},
			kv{"observe", observeNode(r.Fixed.Observe)})
	case r.NthWeekday != nil:
		n.add(kv{"nth_weekday", mapNode(true, kv{"month", intNode(int(r.NthWeekday.Month))},
			kv{"weekday", strNode(strings.ToLower(r.NthWeekday.Weekday.String()))},
			kv{"n", intNode(r.NthWeekday.N)}).Node})
	case r.Easter != nil:
		n.add(kv{"easter", mapNode(true, kv{"offset", intNode(r.Easter.Offset)}).Node})
	}
	if r.FromYear != 0 {
		n.add(kv{"from_year", intNode(r.FromYear)})
	}
	if r.ToYear != 0 {
		n.add(kv{"to_year", intNode(r.ToYear)})
	}
	return n.Node
}

func observeNode(o Observe) *yaml.Node {
	if o.Preset != "" {
		return strNode(o.Preset)
	}
	n := mapNode(true)
	for i := range 7 {
		wd := time.Weekday((i + 1) % 7) // Monday first, as people write them
		if s, ok := o.Shifts[wd]; ok {
			n.add(kv{strings.ToLower(wd.String()), intNode(s)})
		}
	}
	return n.Node
}

// kv is one key and value of a mapping being built.
type kv struct {
	key   string
	value *yaml.Node
}

// mapping is a YAML mapping node being built.
type mapping struct{ *yaml.Node }

func mapNode(flow bool, pairs ...kv) mapping {
	m := mapping{&yaml.Node{Kind: yaml.MappingNode}}
	if flow {
		m.Style = yaml.FlowStyle
	}
	m.add(pairs...)
	return m
}

func (m mapping) add(pairs ...kv) {
	for _, p := range pairs {
		m.Content = append(m.Content, strNode(p.key), p.value)
	}
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func intNode(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}
