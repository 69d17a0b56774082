// Package ratelimit holds in-process token buckets keyed by a string (a webhook, an app).
// Each replica keeps its own buckets: behind N replicas a key may get up to N times the rate.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// maxKeys bounds the buckets kept; beyond it, full (idle) buckets are dropped.
const maxKeys = 10000

// Limiter allows Rate events per second per key with bursts of Burst.
type Limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter; a rate <= 0 allows everything. burst defaults to max(1, 2×rate).
func New(rate float64, burst int) *Limiter {
	if burst <= 0 {
		burst = int(math.Max(1, math.Ceil(2*rate)))
	}
	return &Limiter{rate: rate, burst: float64(burst), now: time.Now, buckets: map[string]*bucket{}}
}

// SetClock replaces the clock (tests).
func (l *Limiter) SetClock(now func() time.Time) { l.now = now }

// Allow takes a token of key. When none is left it answers false and how long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxKeys {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// evict drops the buckets that have refilled (their keys were idle).
func (l *Limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
