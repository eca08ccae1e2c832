package auth

import (
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket per principal: each key may make Burst
// requests at once and Rate per second on average. It is safe for
// concurrent use.
type Limiter struct {
	rate  float64 // tokens per second
	burst float64

	mu      sync.Mutex // guards the fields below
	buckets map[string]*bucket
	swept   time.Time // last sweep of idle buckets
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter of rate requests per second with bursts of
// burst; nil (no limit) when rate <= 0.
func NewLimiter(rate float64, burst int) *Limiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// Allow takes a token from key's bucket at time now. When the bucket is
// empty it returns false and how long until a token is back. A nil
// Limiter allows everything.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// sweep drops the buckets that have been full for a while (they hold no
// state a new bucket would not), at most once a minute, so that the map
// does not grow with every principal ever seen.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}
