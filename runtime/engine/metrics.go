package engine

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricRuns = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "tessera_flow_runs_finished_total", Help: "Flow runs finished, by status.",
	}, []string{"status"})
	metricSteps = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tessera_flow_step_seconds", Help: "Duration of executed flow steps, by node type and outcome.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"type", "outcome"})
)
