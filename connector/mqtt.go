package connector

import (
	"context"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lodestone/twin"
)

// runMQTT subscribes to the topic filters of the mappings and feeds the
// queue until ctx ends. Paho reconnects on its own (with back-off) and
// the subscriptions are made again on every connect.
func (r *Runner) runMQTT(ctx context.Context) error {
	qos := byte(1)
	if r.spec.QoS != nil {
		qos = byte(*r.spec.QoS)
	}
	tmpls := make([]template, len(r.spec.Mappings))
	for i, m := range r.spec.Mappings {
		tmpls[i], _ = parseTemplate(m.Topic) // checked by DecodeConfig
	}
	clientID := r.spec.ClientID
	if clientID == "" {
		clientID = fmt.Sprintf("lodestone-%s-%d", r.spec.ID, time.Now().UnixNano()%1e9)
	}
	o := mqtt.NewClientOptions().AddBroker(r.spec.Broker).SetClientID(clientID).
		SetUsername(r.spec.Username).SetPassword(r.spec.Password).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(30 * time.Second).SetCleanSession(true).
		SetOrderMatters(true) // handlers run in order and block: back-pressure reaches the broker
	first := true
	o.SetOnConnectHandler(func(c mqtt.Client) {
		if !first {
			r.reconnects.Add(1)
		}
		first = false
		r.connected.Store(true)
		r.setState("connected")
		for i := range r.spec.Mappings {
			m, t := &r.spec.Mappings[i], tmpls[i]
			tok := c.Subscribe(t.filter(), qos, func(_ mqtt.Client, msg mqtt.Message) {
				r.onMQTT(ctx, tmpls, m, t, msg.Topic(), msg.Payload())
			})
			if tok.WaitTimeout(10*time.Second) && tok.Error() != nil {
				r.setErr(fmt.Errorf("subscribe %s: %w", t.filter(), tok.Error()))
			}
		}
	})
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		r.connected.Store(false)
		r.setState("reconnecting")
		r.setErr(fmt.Errorf("connection lost: %w", err))
	})
	c := mqtt.NewClient(o)
	r.setState("connecting")
	c.Connect() // with ConnectRetry it keeps trying in the background
	<-ctx.Done()
	c.Disconnect(250)
	r.connected.Store(false)
	return nil
}

// onMQTT handles one message of a mapping's subscription.
func (r *Runner) onMQTT(ctx context.Context, tmpls []template, m *Mapping, t template, topic string, payload []byte) {
	h, ok := t.match(topic)
	if !ok || r.best(tmpls, topic) != m {
		return // another mapping's topic, or one that matches it more closely
	}
	tg := target{twin: twin.ID(m.Twin), component: m.Component, name: m.Telemetry}
	if m.Property != "" {
		tg.name, tg.property = m.Property, true
	}
	if h.twin != "" {
		tg.twin = twin.ID(h.twin)
	}
	if h.component != "" {
		tg.component = h.component
	}
	if h.telemetry != "" {
		tg.name = h.telemetry
	}
	if h.property != "" {
		tg.name, tg.property = h.property, true
	}
	rd, err := DecodePayload(payload, m.ValuePath, m.TimePath, m.UnitPath)
	if err != nil {
		r.received.Add(1)
		r.deadLetter(ctx, topic, payload, tg, err)
		return
	}
	r.accept(ctx, m, tg, rd, topic, payload)
}

// best is the mapping whose template matches topic with the most literal
// levels (the first of equals): "plant/{twin}/sp" wins over
// "plant/{twin}/{telemetry}" for plant/p1/sp.
func (r *Runner) best(tmpls []template, topic string) *Mapping {
	var out *Mapping
	most := -1
	for i, t := range tmpls {
		if _, ok := t.match(topic); ok && len(t.levels)-len(t.holes) > most {
			out, most = &r.spec.Mappings[i], len(t.levels)-len(t.holes)
		}
	}
	return out
}
