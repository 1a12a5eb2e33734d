package screening

// acMatcher finds which of a fixed set of strings occur in a text, all in
// one pass (Aho-Corasick, compiled to a table over byte classes). The
// regexp prefilters ask it instead of searching for each string.
type acMatcher struct {
	class   [256]uint8 // byte → class; 0 for bytes in no string
	nclass  int
	delta   []int32 // state*nclass + class → next state
	outs    []int32 // the string ids found on entering a state: outs[outAt[s]:outAt[s+1]]
	outAt   []int32
	strings int
}

// newACMatcher compiles the strings; a string's id is its index.
func newACMatcher(strs []string) *acMatcher {
	m := &acMatcher{strings: len(strs)}
	for _, s := range strs {
		for i := 0; i < len(s); i++ {
			if m.class[s[i]] == 0 {
				m.nclass++
				m.class[s[i]] = uint8(m.nclass)
			}
		}
	}
	m.nclass++
	// The trie, with each node's ids and its failure link.
	type node struct {
		next map[uint8]int32
		fail int32
		out  []int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for id, s := range strs {
		cur := int32(0)
		for i := 0; i < len(s); i++ {
			c := m.class[s[i]]
			nx, ok := nodes[cur].next[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[cur].next[c] = nx
			}
			cur = nx
		}
		nodes[cur].out = append(nodes[cur].out, int32(id))
	}
	m.delta = make([]int32, len(nodes)*m.nclass)
	// Breadth first, so a node's failure target is complete before it.
	queue := []int32{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s != 0 {
			nodes[s].out = append(nodes[s].out, nodes[nodes[s].fail].out...)
		}
		for c := 0; c < m.nclass; c++ {
			nx, ok := nodes[s].next[uint8(c)]
			switch {
			case ok:
				if s != 0 {
					nodes[nx].fail = m.delta[int(nodes[s].fail)*m.nclass+c]
				}
				m.delta[int(s)*m.nclass+c] = nx
				queue = append(queue, nx)
			case s != 0:
				m.delta[int(s)*m.nclass+c] = m.delta[int(nodes[s].fail)*m.nclass+c]
			}
		}
	}
	m.outAt = make([]int32, len(nodes)+1)
	for i, n := range nodes {
		m.outs = append(m.outs, n.out...)
		m.outAt[i+1] = int32(len(m.outs))
	}
	return m
}

// scan sets the bit of each string found in text (found has a bit per
// string).
func (m *acMatcher) scan(text []byte, found []uint64) {
	clear(found)
	s := int32(0)
	for _, b := range text {
		s = m.delta[int(s)*m.nclass+int(m.class[b])]
		if a, z := m.outAt[s], m.outAt[s+1]; a < z {
			for _, id := range m.outs[a:z] {
				found[id/64] |= 1 << (id % 64)
			}
		}
	}
}
