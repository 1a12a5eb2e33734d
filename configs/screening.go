package configs

import _ "embed"

// DefaultScreening is the shipped screening rule set for policy 3.4.3
// (categories A–L: word lists, phrases and patterns) as YAML for
// screening.Load, used unless policy.screening_file names another.
//
//go:embed screening/default.yaml
var DefaultScreening []byte
