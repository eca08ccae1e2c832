// Package lodestone is the root of the Lodestone module, a digital twin of the
// rare-earth supply chain from mine to magnet. It holds no code of its own: its
// tests enforce the architecture of docs/architecture.md (import rules between
// the domain packages and a package comment on every package).
package lodestone
