package sdk

import (
	"context"
	"net"
)

// DialFunc opens a network connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// DialContext dials through env.Dial, failing with ErrNoNetwork when the host gave none.
func (e Env) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if e.Dial == nil {
		return nil, ErrNoNetwork
	}
	return e.Dial(ctx, network, address)
}
