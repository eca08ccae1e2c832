// Package governance is the workflow that changes to the governed parts of
// the twin go through (issue 14, item 4): a writer proposes a change,
// another principal reviews it, an admin who is not its author approves
// it, and only then is it applied; each applied change is a numbered
// version with its author, reviewers, approver, reason and credibility
// evidence, and the twin can be read as of the transaction time of any
// version.
//
// The package holds the pure rules: the configuration of what is governed
// (Config, DecodeConfig), which writes touch a governed subject
// (Config.Governs), the shape of a proposal (Change, Proposal) and the
// state machine with who may do what (Propose, Review, Approve, Applied,
// Failed). It does no I/O and reads no clock: the api package stores
// proposals and versions as store documents, applies approved changes
// through the write pipeline and passes in the time.
package governance
