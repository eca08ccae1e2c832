// Package worker runs Monte Carlo studies on a JetStream work queue: the
// server cuts a study into shards of whole blocks of runs (supply.MCBlock)
// and publishes them on a work-queue stream; `lodestone worker` processes
// take them (explicit ack, bounded redeliveries, progress heartbeats with
// InProgress), run them with supply.MonteCarloShard and publish the
// samples on a results stream; the server merges them in run order with
// supply.MergeMC. Run r always draws from rand.NewPCG(seed, r), so a study
// gives the same bits over any number of workers, redeliveries included.
//
// Shards of kind "invest" carry the runs of one portfolio evaluation of an
// organisation investment search (org.Invest with InvestSampler): the
// worker computes org.Samples for them, the server copies the samples into
// run order.
//
// The wire formats are described in docs/formats/worker.md.
package worker
