package pipeline

import (
	"context"
	"errors"
	"iter"

	"lodestone/store"
)

// Import writes a stream of models, twins and relationships in one
// transaction (see store.Bulk.Import). src builds the stream from the model
// set it is to be validated against, read under the model lock, so that no
// model change of this server comes in between. It records one summary
// event; models it brings are in force for the next write.
func (p *Pipeline) Import(ctx context.Context, opts store.ImportOptions, src func(ms *Models) iter.Seq2[store.Entity, error]) (store.ImportStats, error) {
	if err := p.models.acquire(ctx, p.opts.RetryDeadline); err != nil {
		return store.ImportStats{}, err
	}
	defer p.models.release()
	ms, err := p.models.reload(ctx, -1)
	if err != nil {
		return store.ImportStats{}, err
	}
	stream := src(ms)
	var stats store.ImportStats
	err = p.commit(ctx, func(ctx context.Context, _ *Models) error {
		if err := p.check(ctx, &Write{Kind: store.KindImport, Op: store.OpCreate}); err != nil {
			return err
		}
		// The stream was validated against ms: the store refuses the
		// import if another server changed the model set since. The
		// stream cannot be read twice, so that refusal is final.
		o := opts
		o.Models = ms.Version
		var err error
		stats, err = p.st.Import(ctx, stream, o)
		if errors.Is(err, store.ErrModelsChanged) {
			return refuse(ErrBusy, "ServiceUnavailable", "the model set changed during the import (through another server); run the import again")
		}
		return err
	})
	if err == nil && stats.Models > 0 && !opts.DryRun {
		p.refreshModels(ctx)
	}
	return stats, err
}
