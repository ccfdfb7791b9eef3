package pyro

// WithInterceptors adds interceptors to the daemon's calls (see
// Interceptor), in order: the first one given is the outermost, it runs
// first and sees the result last. Several WithInterceptors add up, in
// the order given.
func WithInterceptors(interceptors ...Interceptor) DaemonOption {
	return func(d *Daemon) error {
		for _, i := range interceptors {
			if i == nil {
				return errNilInterceptor
			}
		}
		d.interceptors = append(d.interceptors, interceptors...)
		return nil
	}
}
