// Package org is the organisation twin (issue 14): actors with roles, rules
// "when SIGNAL crosses a threshold, after LATENCY, do ACTION, subject to
// APPROVAL" carried out inside the daily supply simulation, the decisions
// they make with their dates, the zero-latency counterfactual that prices
// slow decisions, and the choice of a portfolio of investments under a
// budget over common Monte Carlo runs.
//
// Rules are evaluated in phase 0 of each simulated day (before supply's
// phase 1, regimes) on the state at the end of the previous day. A rule
// fires once, on the first day its condition holds; its action takes effect
// on signal day + the actor's latency + the approvers' latencies. The
// package is pure: it imports supply and the standard library only.
package org
