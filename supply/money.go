package supply

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Price is the price of a material in a country on a date, with its source:
// the `prices` entries of a SCENARIO (world/data/prices.json has sourced
// ones). Country "" is a benchmark for any country; Date is a day, a month
// (YYYY-MM) or a year (YYYY). Unit is the quantity the price is per ("kg" or "t"); Currency a
// code such as "USD". Prices are inputs: the engine has no price response.
type Price struct {
	Material string  `json:"material" req:"true"`
	Country  string  `json:"country"`
	Price    float64 `json:"price" req:"true"`
	Currency string  `json:"currency"`
	Unit     string  `json:"unit"`
	Date     Date    `json:"date"`
	Source   string  `json:"source"`
}

// Costs holds the money side of a SCENARIO. All amounts are in Currency;
// quantities are in QuantityUnit (the unit of the network's quantities).
type Costs struct {
	// Currency of every amount; prices must be in it (there are no
	// exchange rates). Empty: the currency of the first price, else "USD".
	Currency string `json:"currency,omitempty"`
	// QuantityUnit is the unit of the network's quantities: "t" (the
	// default, as in the world network) or "kg".
	QuantityUnit string `json:"quantity_unit,omitempty"`
	// HoldingRatePerYear is the cost of holding stock as a share of its
	// value per year, for nodes with a price and no holding cost of their
	// own (0: no holding cost).
	HoldingRatePerYear float64 `json:"holding_rate_per_year,omitempty"`
	// Nodes holds each node's own figures.
	Nodes map[NodeID]NodeCosts `json:"nodes,omitempty"`
}

// NodeCosts are one node's money figures, per unit of its output.
type NodeCosts struct {
	// Material is what the node's output is priced as; empty: the material
	// its outgoing arcs carry (when they all carry one).
	Material string `json:"material,omitempty"`
	// PricePerUnit is the value of one unit of output; it overrides prices.
	PricePerUnit float64 `json:"price_per_unit,omitempty"`
	// MarginPerUnit is the cost of one unit of lost demand (margin or
	// penalty); 0: the node's loss_per_unit, else its price.
	MarginPerUnit float64 `json:"margin_per_unit,omitempty"`
	// HoldingCostPerUnitDay is the cost of holding one unit for one day;
	// 0: holding_rate_per_year × price / 365.
	HoldingCostPerUnitDay float64 `json:"holding_cost_per_unit_day,omitempty"`
}

// NodeCost is one node's money over a run, in the scenario's currency.
type NodeCost struct {
	// PricePerUnit is the value of one unit of the node's output used
	// (0 when none is known).
	PricePerUnit float64 `json:"price_per_unit"`
	// RevenueAtRisk is the lost demand at the node's price: lost × price.
	RevenueAtRisk float64 `json:"revenue_at_risk"`
	// LostDemandCost is the lost demand at its cost: lost × margin.
	LostDemandCost float64 `json:"lost_demand_cost"`
	// HoldingCost is stock_unit_days × holding cost per unit-day.
	HoldingCost float64 `json:"holding_cost"`
	// MitigationCost is the capital and operating cost of the node's builds
	// and the cost of the qualification programmes of its input lanes,
	// plus the holding cost when the node is a stockpile (whose
	// holding_cost is then 0).
	MitigationCost float64 `json:"mitigation_cost"`
	// Total is lost_demand_cost + holding_cost + mitigation_cost.
	Total float64 `json:"total"`
}

// RunCost sums the node costs of a run (or the means of a study).
type RunCost struct {
	Currency       string  `json:"currency"`
	RevenueAtRisk  float64 `json:"revenue_at_risk"`
	LostDemandCost float64 `json:"lost_demand_cost"`
	HoldingCost    float64 `json:"holding_cost"`
	MitigationCost float64 `json:"mitigation_cost"`
	Total          float64 `json:"total"`
}

// cmoney is the compiled money of a scenario: per node its price, cost of
// lost demand and holding cost per unit-day, and its fixed mitigation cost
// over the horizon (builds and qualifications).
type cmoney struct {
	currency          string
	price, margin, hd []float64
	fixed             []float64
}

// unitFactor is the number of kilograms in a unit.
func unitFactor(u string) (float64, bool) {
	switch strings.ToLower(u) {
	case "kg":
		return 1, true
	case "t", "tonne", "tonnes", "mt":
		return 1000, true
	}
	return 0, false
}

// money compiles prices and costs. A scenario with neither has no money
// (m.money stays nil and results carry no cost).
func (c *compiler) money() error {
	s, m := c.s, c.m
	hasFixed := false
	for _, b := range s.Builds {
		hasFixed = hasFixed || b.Capex != 0 || b.OpexPerDay != 0
	}
	for _, q := range s.Qualifications {
		hasFixed = hasFixed || q.Cost != 0
	}
	if len(s.Prices) == 0 && s.Costs == nil && !hasFixed {
		return nil
	}
	costs := Costs{}
	if s.Costs != nil {
		costs = *s.Costs
	}
	cur := costs.Currency
	if cur == "" && len(s.Prices) > 0 {
		cur = s.Prices[0].Currency
	}
	if cur == "" {
		cur = "USD"
	}
	qf := 1000.0
	if costs.QuantityUnit != "" {
		f, ok := unitFactor(costs.QuantityUnit)
		if !ok {
			return fieldErr("costs.quantity_unit", "unknown unit %q (want t or kg)", costs.QuantityUnit)
		}
		qf = f
	}
	if err := checkNum("costs.holding_rate_per_year", costs.HoldingRatePerYear, false); err != nil {
		return err
	}
	if err := checkPrices(s.Prices, cur); err != nil {
		return err
	}
	mo := &cmoney{currency: cur, price: make([]float64, m.n), margin: make([]float64, m.n), hd: make([]float64, m.n), fixed: make([]float64, m.n)}
	for _, id := range slices.Sorted(maps.Keys(costs.Nodes)) {
		if _, ok := c.t.idx[id]; !ok {
			return fieldErr("costs.nodes."+string(id), "unknown node %q", id)
		}
	}
	for j, nd := range c.net.Nodes {
		nc := costs.Nodes[nd.ID]
		p := "costs.nodes." + string(nd.ID)
		for _, f := range []struct {
			n string
			v float64
		}{{"price_per_unit", nc.PricePerUnit}, {"margin_per_unit", nc.MarginPerUnit}, {"holding_cost_per_unit_day", nc.HoldingCostPerUnitDay}} {
			if err := checkNum(p+"."+f.n, f.v, false); err != nil {
				return err
			}
		}
		price := nc.PricePerUnit
		if price == 0 {
			price = c.priceOf(j, nc.Material, qf, m.start.Format(dateLayout))
		}
		mo.price[j] = price
		mo.margin[j] = cmpOr(nc.MarginPerUnit, nd.LossPerUnit, price)
		mo.hd[j] = cmpOr(nc.HoldingCostPerUnitDay, costs.HoldingRatePerYear*price/365)
	}
	if err := c.fixedCosts(mo); err != nil {
		return err
	}
	m.money = mo
	return nil
}

// cmpOr returns the first of vs that is not 0.
func cmpOr(vs ...float64) float64 {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}

// checkPrices checks every price: material, finite price ≥ 0, currency
// (the scenario's), a known unit, a date and a source.
func checkPrices(ps []Price, cur string) error {
	for i, pr := range ps {
		p := describe(i, "prices")
		switch {
		case pr.Material == "":
			return fieldErr(p+".material", "required")
		case pr.Currency == "":
			return fieldErr(p+".currency", "required: a price without its currency cannot be compared")
		case pr.Currency != cur:
			return fieldErr(p+".currency", "%q differs from the scenario's currency %q (there are no exchange rates)", pr.Currency, cur)
		case pr.Date == "":
			return fieldErr(p+".date", "required: a price without its date cannot be placed")
		case pr.Source == "":
			return fieldErr(p+".source", "required: every price carries its source")
		}
		if !priceDate(string(pr.Date)) {
			return fieldErr(p+".date", "invalid date %q (want YYYY, YYYY-MM or YYYY-MM-DD)", pr.Date)
		}
		if _, ok := unitFactor(pr.Unit); !ok {
			return fieldErr(p+".unit", "unknown unit %q (want kg or t)", pr.Unit)
		}
		if err := checkNum(p+".price", pr.Price, false); err != nil {
			return err
		}
	}
	return nil
}

// priceDate reports whether d is a date of a year, a month or a day
// (prices are often monthly or annual averages). Such dates order as strings,
// a period before the days in it.
func priceDate(d string) bool {
	for _, layout := range []string{"2006", "2006-01", dateLayout} {
		if len(d) == len(layout) {
			if _, err := time.Parse(layout, d); err == nil {
				return true
			}
		}
	}
	return false
}

// materialMatches reports whether a price's material names the material
// mat: the same name (case aside), or mat's name followed by details, as
// the world network writes "NdPr-oxide (Nd Pr)".
func materialMatches(price, mat string) bool {
	p, m := strings.ToLower(price), strings.ToLower(mat)
	return p == m || strings.HasPrefix(m, p+" ")
}

// priceOf returns the price of node j's output per network unit: the
// price of its material (given, or what its outgoing arcs all carry) in
// its country, else with no country; of several, the latest dated on or
// before the start (the earliest if all are later). 0 when none matches.
func (c *compiler) priceOf(j int, mat string, qf float64, start string) float64 {
	if mat == "" {
		for _, a := range c.t.out[j] {
			am := c.net.Arcs[a].Material
			if mat != "" && am != mat {
				return 0
			}
			mat = am
		}
	}
	if mat == "" {
		return 0
	}
	country := c.net.Nodes[j].Country
	best := -1
	for _, want := range []string{country, ""} {
		for i, pr := range c.s.Prices {
			if !materialMatches(pr.Material, mat) || pr.Country != want {
				continue
			}
			if best < 0 || better(string(pr.Date), string(c.s.Prices[best].Date), start) {
				best = i
			}
		}
		if best >= 0 {
			break
		}
	}
	if best < 0 {
		return 0
	}
	pr := c.s.Prices[best]
	f, _ := unitFactor(pr.Unit)
	return pr.Price * qf / f
}

// better reports whether date a is a better choice than b for a scenario
// starting on start: on or before start beats after; among those on or
// before, later is better; among later ones, earlier is better.
func better(a, b, start string) bool {
	ab, bb := a <= start, b <= start
	switch {
	case ab != bb:
		return ab
	case ab:
		return a > b
	}
	return a < b
}

// fixedCosts adds the capital and operating costs of builds and the cost of
// qualification programmes to the nodes they serve.
func (c *compiler) fixedCosts(mo *cmoney) error {
	m := c.m
	for i, b := range c.s.Builds {
		p := describe(i, "builds")
		if err := checkNum(p+".capex", b.Capex, false); err != nil {
			return err
		}
		if err := checkNum(p+".opex_per_day", b.OpexPerDay, false); err != nil {
			return err
		}
		cb := m.builds[i]
		days := max(0, m.days-max(cb.online, 0))
		mo.fixed[cb.node] += b.Capex + b.OpexPerDay*float64(days)
	}
	for i, q := range c.s.Qualifications {
		if err := checkNum(describe(i, "qualifications")+".cost", q.Cost, false); err != nil {
			return err
		}
		mo.fixed[m.to[m.qualArcs[i]]] += q.Cost
	}
	return nil
}

// nodeCost is node i's money over a run with lost demand lost and stock
// unit-days sd.
func (mo *cmoney) nodeCost(stockpile bool, i int, lost, sd float64) NodeCost {
	c := NodeCost{PricePerUnit: mo.price[i], RevenueAtRisk: lost * mo.price[i], LostDemandCost: lost * mo.margin[i],
		HoldingCost: sd * mo.hd[i], MitigationCost: mo.fixed[i]}
	if stockpile {
		c.MitigationCost += c.HoldingCost
		c.HoldingCost = 0
	}
	c.Total = c.LostDemandCost + c.HoldingCost + c.MitigationCost
	return c
}

// SumCosts adds node costs in the order of ids (the same bits each time).
func SumCosts(currency string, ids []NodeID, costs map[NodeID]*NodeCost) RunCost {
	r := RunCost{Currency: currency}
	for _, id := range ids {
		c := costs[id]
		if c == nil {
			continue
		}
		r.RevenueAtRisk += c.RevenueAtRisk
		r.LostDemandCost += c.LostDemandCost
		r.HoldingCost += c.HoldingCost
		r.MitigationCost += c.MitigationCost
		r.Total += c.Total
	}
	return r
}
