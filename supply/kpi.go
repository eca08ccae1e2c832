package supply

// DemandKPIs summarise a run (or a Monte Carlo study) over the demand nodes
// of its network: the figures scenario runs are stored with and compared on.
type DemandKPIs struct {
	// Lost is the external demand lost over the run, summed over the
	// demand nodes, in the network's units (the mean over runs for a
	// study).
	Lost float64
	// FillRate is the demand nodes' fill rate weighted by their demand per
	// period,
	//
	//	FillRate = Σ_j d_j β_j / Σ_j d_j   over the nodes j with d_j > 0,
	//
	// with β_j the node's fill rate over the run (its mean over runs for a
	// study). It is 1 when no node has demand. A demand node the result
	// lacks counts with β_j = 0: it filled nothing that anyone saw.
	FillRate float64
	// FirstStockout is the earliest first stockout of a demand node; nil
	// when none ran short. A study has no single first day and leaves it
	// nil (its distribution is NodeDist.FirstStockoutDay).
	FirstStockout *Date
	// FillRates is every node's fill rate in the result, demand node or
	// not (the mean over runs for a study).
	FillRates map[NodeID]float64
}

// demandWeights returns the demand nodes of n in file order with their
// demand per period, and the total demand.
func demandWeights(n *Network) (ids []NodeID, d []float64, total float64) {
	for _, nd := range n.Nodes {
		if nd.DemandPerPeriod > 0 {
			ids = append(ids, nd.ID)
			d = append(d, nd.DemandPerPeriod)
			total += nd.DemandPerPeriod
		}
	}
	return ids, d, total
}

// RunKPIs summarises the result of one run of a scenario on network n over
// n's demand nodes. Sums run over the nodes in n's order, so the same
// result gives the same bits.
func RunKPIs(n *Network, r *Result) DemandKPIs {
	k := DemandKPIs{FillRate: 1, FillRates: make(map[NodeID]float64, len(r.Nodes))}
	for id, nk := range r.Nodes {
		k.FillRates[id] = nk.FillRate
	}
	ids, d, total := demandWeights(n)
	if total > 0 {
		k.FillRate = 0
	}
	for i, id := range ids {
		nk := r.Nodes[id]
		if nk == nil {
			continue
		}
		k.Lost += nk.Lost
		k.FillRate += nk.FillRate * d[i] / total
		if so := nk.FirstStockout; so != nil && (k.FirstStockout == nil || *so < *k.FirstStockout) {
			day := *so
			k.FirstStockout = &day
		}
	}
	return k
}

// StudyKPIs summarises a Monte Carlo study of a scenario on network n over
// n's demand nodes, from the means over runs of each node's fill rate and
// lost demand.
func StudyKPIs(n *Network, r *MCResult) DemandKPIs {
	k := DemandKPIs{FillRate: 1, FillRates: make(map[NodeID]float64, len(r.Nodes))}
	for id, nd := range r.Nodes {
		k.FillRates[id] = nd.FillRate.Mean
	}
	ids, d, total := demandWeights(n)
	if total > 0 {
		k.FillRate = 0
	}
	for i, id := range ids {
		nd := r.Nodes[id]
		if nd == nil {
			continue
		}
		k.Lost += nd.Lost.Mean
		k.FillRate += nd.FillRate.Mean * d[i] / total
	}
	return k
}
