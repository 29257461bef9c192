package batch

import (
	"time"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/report"
)

// Producer cuts a running sensor's output into batches: Cut classifies
// every observation so far, drains the edge buckets and builds the next
// batch. It is not safe for concurrent use with the sensor: call Cut from
// the goroutine that feeds the sensor frames.
type Producer struct {
	Sensor     *sensor.Sensor // with Config.EdgeBuckets set
	Classifier *classify.Classifier
	Builder    *Builder
}

// Cut returns the batch for everything seen up to end (nil when nothing
// new was seen).
func (p *Producer) Cut(end time.Time) *Batch {
	buckets := p.Sensor.DrainEdgeBuckets()
	res := p.Sensor.Result()
	devs := p.Classifier.Classify(report.Input(res))
	return p.Builder.Build(end, devs, buckets)
}
