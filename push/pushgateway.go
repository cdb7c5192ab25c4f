package push

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	clientpush "github.com/prometheus/client_golang/prometheus/push"
)

// pushgatewaySender pushes to a Prometheus Pushgateway with client_golang's
// push package (clientpush). The grouping key is job + instance; Push (HTTP PUT)
// replaces the whole group, so a series the gateway stopped reporting
// does not linger there.
type pushgatewaySender struct {
	url, job string
	client   *http.Client
}

func (s *pushgatewaySender) pusher(instance string) *clientpush.Pusher {
	return clientpush.New(s.url, s.job).Client(s.client).Grouping("instance", instance)
}

func (s *pushgatewaySender) send(ctx context.Context, g prometheus.Gatherer, instance string) error {
	return s.pusher(instance).Gatherer(g).PushContext(ctx)
}

// end deletes the group. The push package's Delete takes no context: the
// client's timeout (--push.timeout) bounds it.
func (s *pushgatewaySender) end(_ context.Context, instance string) error {
	return s.pusher(instance).Delete()
}
