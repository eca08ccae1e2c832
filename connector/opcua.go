package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"lodestone/twin"
)

// runOPCUA connects, subscribes to the mappings' node ids and feeds the
// queue; when the connection or the subscription fails it waits (1 s,
// doubling to 30 s) and starts again, until ctx ends.
func (r *Runner) runOPCUA(ctx context.Context) error {
	nodes := make([]*ua.NodeID, len(r.spec.Mappings))
	for i, m := range r.spec.Mappings {
		id, err := ua.ParseNodeID(m.NodeID)
		if err != nil {
			return fmt.Errorf("connectors %s: mappings[%d].nodeId: %q: %v", r.spec.ID, i, m.NodeID, err)
		}
		nodes[i] = id
	}
	wait := time.Second
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			r.reconnects.Add(1)
			r.setState("reconnecting")
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(2*wait, 30*time.Second)
		}
		r.setState("connecting")
		ok, err := r.opcuaSession(ctx, nodes)
		r.connected.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		if ok {
			wait = time.Second // it worked for a while: reconnect soon
		}
		if err != nil {
			r.setErr(err)
			r.log.Warn("opc ua session ended", "err", err)
		}
	}
}

// opcuaSession runs one connection; ok reports whether it got as far as
// receiving.
func (r *Runner) opcuaSession(ctx context.Context, nodes []*ua.NodeID) (ok bool, err error) {
	states := make(chan opcua.ConnState, 8)
	c, err := opcua.NewClient(r.spec.Endpoint,
		opcua.SecurityMode(ua.MessageSecurityModeNone), opcua.SecurityPolicy("None"), opcua.AuthAnonymous(),
		opcua.AutoReconnect(false), opcua.DialTimeout(5*time.Second), opcua.RequestTimeout(10*time.Second),
		opcua.StateChangedCh(states))
	if err != nil {
		return false, err
	}
	if err := c.Connect(ctx); err != nil {
		return false, fmt.Errorf("connect %s: %w", r.spec.Endpoint, err)
	}
	defer func() {
		// On a dead connection these would wait out the request timeout.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		c.Close(cctx)
	}()
	notify := make(chan *opcua.PublishNotificationData, 64)
	interval := time.Duration(r.spec.IntervalMs * float64(time.Millisecond))
	sub, err := c.Subscribe(ctx, &opcua.SubscriptionParameters{Interval: interval}, notify)
	if err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		sub.Cancel(cctx)
	}()
	reqs := make([]*ua.MonitoredItemCreateRequest, len(nodes))
	for i, n := range nodes {
		reqs[i] = opcua.NewMonitoredItemCreateRequestWithDefaults(n, ua.AttributeIDValue, uint32(i))
		reqs[i].RequestedParameters.QueueSize = 1000 // keep every change between publishes
		reqs[i].RequestedParameters.SamplingInterval = 0
	}
	res, err := sub.Monitor(ctx, ua.TimestampsToReturnBoth, reqs...)
	if err != nil {
		return false, fmt.Errorf("monitor: %w", err)
	}
	for i, st := range res.Results {
		if st.StatusCode != ua.StatusOK {
			r.setErr(fmt.Errorf("mappings[%d].nodeId %s: %v", i, r.spec.Mappings[i].NodeID, st.StatusCode))
		}
	}
	r.connected.Store(true)
	r.setState("connected")
	// A closed connection does not always reach the subscription: a
	// read of the server's state every 2 s finds it.
	watch := time.NewTicker(2 * time.Second)
	defer watch.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case <-watch.C:
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := c.Read(rctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewNumericNodeID(0, id.Server_ServerStatus_State), AttributeID: ua.AttributeIDValue}}})
			cancel()
			if err != nil && ctx.Err() == nil {
				return true, fmt.Errorf("server state: %w", err)
			}
		case s := <-states:
			if s == opcua.Disconnected || s == opcua.Closed {
				return true, fmt.Errorf("connection %v", s)
			}
		case n := <-notify:
			if n.Error != nil {
				return true, fmt.Errorf("publish: %w", n.Error)
			}
			if dc, ok := n.Value.(*ua.DataChangeNotification); ok {
				for _, it := range dc.MonitoredItems {
					r.onOPCUA(ctx, it)
				}
			}
		}
	}
}

func (r *Runner) onOPCUA(ctx context.Context, it *ua.MonitoredItemNotification) {
	if int(it.ClientHandle) >= len(r.spec.Mappings) || it.Value == nil {
		return
	}
	m := &r.spec.Mappings[it.ClientHandle]
	tg := target{twin: twin.ID(m.Twin), component: m.Component, name: m.Telemetry}
	if m.Property != "" {
		tg.name, tg.property = m.Property, true
	}
	var v any
	if it.Value.Value != nil {
		v = it.Value.Value.Value()
	}
	raw, _ := json.Marshal(map[string]any{"value": v, "status": it.Value.Status.Error(), "sourceTimestamp": it.Value.SourceTimestamp})
	if it.Value.Status != ua.StatusOK {
		r.received.Add(1)
		r.deadLetter(ctx, m.NodeID, raw, tg, fmt.Errorf("status: %v", it.Value.Status))
		return
	}
	val, err := fromVariant(v)
	if err != nil {
		r.received.Add(1)
		r.deadLetter(ctx, m.NodeID, raw, tg, err)
		return
	}
	r.accept(ctx, m, tg, Reading{Value: val, Time: it.Value.SourceTimestamp, Unit: m.Unit}, m.NodeID, raw)
}

// fromVariant turns an OPC UA scalar into a JSON value.
func fromVariant(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		var f float64
		b, _ := json.Marshal(x)
		json.Unmarshal(b, &f)
		return f, nil
	case bool, string:
		return x, nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case nil:
		return nil, errors.New("value: the node has no value")
	default:
		return nil, fmt.Errorf("value: an OPC UA %T is not a number, boolean or string", v)
	}
}
