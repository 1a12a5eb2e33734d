package configs

import _ "embed"

// UtahGRAMA is the shipped default law profile: Utah's Government Records
// Access and Management Act as deadlines, citations and notice texts.
//
//go:embed law/utah-grama.yaml
var UtahGRAMA []byte
