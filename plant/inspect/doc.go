// Package inspect is virtual inspection (the REEP digital twin's fourth
// function): rules on telemetry and on the soft sensor's estimates that
// turn readings into inspection findings with their detection time, and
// an inspection round that checks every piece of equipment against its
// rules. It is pure: readings come in, findings go out.
package inspect
