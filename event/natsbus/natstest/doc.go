// Package natstest starts a clustered JetStream of nats-server nodes inside
// a test's process, for the tests of the event bus, the workers and the
// server that must see what a real cluster does: leaders elected after the
// nodes start, a stream's leadership moving, a node killed. Its nodes listen
// on loopback ports chosen at random, never 4222, the port of a standalone
// server the machine may run.
package natstest
