package pipeline

import (
	"context"
	"encoding/json"
	"errors"

	"lodestone/store"
	"lodestone/twin"
)

// PutModels validates a batch of DTDL interfaces together with the stored
// models and stores them atomically: all or none. The batch is validated
// against the model set of a version and stored only if the set still has
// that version, so two servers uploading at once never store a batch that
// does not parse with the other's.
func (p *Pipeline) PutModels(ctx context.Context, raws []json.RawMessage) ([]twin.Model, error) {
	models := make([]twin.Model, 0, len(raws))
	seen := map[string]bool{}
	for i, raw := range raws {
		var head struct {
			ID string `json:"@id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.ID == "" {
			return nil, refuse(store.ErrInvalid, "InvalidArgument", "models[%d]: not a DTDL interface with an @id", i)
		}
		if seen[head.ID] {
			return nil, refuse(store.ErrInvalid, "InvalidArgument", "models[%d]: %s appears twice in the batch", i, head.ID)
		}
		seen[head.ID] = true
		models = append(models, twin.Model{ID: head.ID, DTDL: raw})
	}
	if err := p.models.acquire(ctx, p.opts.RetryDeadline); err != nil {
		return nil, err
	}
	defer p.models.release()
	a := actorOf(ctx)
	if !a.mayWrite(a.org()) {
		return nil, forbidden("principal %s may not upload models to org %q", a.pr.Subject, a.org())
	}
	for i := range models {
		models[i].Org = a.org()
	}
	var stored []twin.Model
	err := p.commit(ctx, func(ctx context.Context, ms *Models) error {
		for _, m := range models {
			if _, dup := ms.All[m.ID]; dup {
				return refuse(store.ErrConflict, "ModelIdAlreadyExists", "model %s already exists; model ids are immutable, upload a new version", m.ID)
			}
		}
		all := make([]twin.Model, 0, len(ms.All)+len(models))
		for _, m := range ms.All {
			all = append(all, m)
		}
		all = append(all, models...)
		set, err := ParseModels(all)
		if err != nil {
			return err
		}
		batch := make([]twin.Model, len(models))
		copy(batch, models)
		for i := range batch {
			batch[i].Extends = nil
			if iface := set.Interface(batch[i].ID); iface != nil {
				for _, b := range iface.Extends() {
					batch[i].Extends = append(batch[i].Extends, b.ID)
				}
			}
		}
		if err := p.check(ctx, &Write{Kind: store.KindModel, Op: store.OpCreate, Models: batch}); err != nil {
			return err
		}
		stored, err = p.st.PutModels(ctx, batch, store.Condition{Models: ms.Version})
		if errors.Is(err, store.ErrConflict) {
			return &Error{Code: "ModelIdAlreadyExists", Message: err.Error(), Err: err}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	p.refreshModels(ctx)
	return stored, nil
}

// DecommissionModel marks a model decommissioned: new twins may no longer
// use it.
func (p *Pipeline) DecommissionModel(ctx context.Context, id string) error {
	if err := p.models.acquire(ctx, p.opts.RetryDeadline); err != nil {
		return err
	}
	defer p.models.release()
	a := actorOf(ctx)
	err := p.commit(ctx, func(ctx context.Context, ms *Models) error {
		if err := a.modelWrite(ms, id); err != nil {
			return err
		}
		if err := p.check(ctx, &Write{Kind: store.KindModel, Op: store.OpDecommission, Subject: id}); err != nil {
			return err
		}
		return p.st.DecommissionModel(ctx, id)
	})
	if err == nil {
		p.refreshModels(ctx)
	}
	return err
}

// DeleteModel deletes a model that no twin uses and no other model
// references.
func (p *Pipeline) DeleteModel(ctx context.Context, id string) error {
	if err := p.models.acquire(ctx, p.opts.RetryDeadline); err != nil {
		return err
	}
	defer p.models.release()
	a := actorOf(ctx)
	err := p.commit(ctx, func(ctx context.Context, ms *Models) error {
		if err := a.modelWrite(ms, id); err != nil {
			return err
		}
		rest := make([]twin.Model, 0, len(ms.All))
		for k, v := range ms.All {
			if k != id {
				rest = append(rest, v)
			}
		}
		// The store refuses to delete a model that twins use or models
		// extend; a model that is only the schema of another's component
		// (or any other reference) shows up here, when the rest no longer
		// parses.
		if _, err := ParseModels(rest); err != nil {
			return &Error{Code: "ModelReferencesNotDeleted", Message: "model " + id + " is referenced by other models; delete those first", Err: errors.Join(store.ErrConflict, err)}
		}
		if err := p.check(ctx, &Write{Kind: store.KindModel, Op: store.OpDelete, Subject: id}); err != nil {
			return err
		}
		// The reference check above holds for the set ms; the store
		// deletes only if no server changed the set since (a model that
		// references this one may have been stored through another).
		var err error
		if d, ok := p.st.(store.ModelDeleterIf); ok {
			err = d.DeleteModelIf(ctx, id, store.Condition{Models: ms.Version})
		} else {
			err = p.st.DeleteModel(ctx, id)
		}
		if errors.Is(err, store.ErrConflict) {
			return &Error{Code: "ModelReferencesNotDeleted", Message: "model " + id + " is used by twins or extended by other models; delete those first", Err: err}
		}
		return err
	})
	if err == nil {
		p.refreshModels(ctx)
	}
	return err
}

// refreshModels reads the model set after a model change of this server.
func (p *Pipeline) refreshModels(ctx context.Context) {
	if _, err := p.models.reload(context.WithoutCancel(ctx), -1); err != nil {
		p.log.Warn("reload models", "err", err)
	}
}

// modelWrite refuses a's change of model id: a model that does not exist,
// or of another org, is not found; one of org "" needs an admin.
func (a actor) modelWrite(ms *Models, id string) error {
	m, ok := ms.All[id]
	if !ok || (!a.mayWrite(m.Org) && m.Org != "" && m.Org != a.pr.Org) {
		return refuse(store.ErrNotFound, "ModelNotFound", "there is no model with id %s", id)
	}
	if !a.mayWrite(m.Org) {
		return forbidden("principal %s may not change model %s of org %q", a.pr.Subject, id, m.Org)
	}
	return nil
}
