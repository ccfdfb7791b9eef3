package console

import (
	"fmt"
	"sort"

	"github.com/pyrogo/pyro/serpent"
)

// parseArgs parses the call's argument literals into model values with
// the serpent parser (what ast.literal_eval accepts, never evaluated),
// each bounded by the Literal limits.
func (h *handler) parseArgs(req *callRequest) ([]any, map[string]any, error) {
	dec := serpent.Decoder{Limits: h.lim.Literal}
	args := make([]any, len(req.Args))
	for i, s := range req.Args {
		v, err := dec.Decode([]byte(s))
		if err != nil {
			return nil, nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		args[i] = v
	}
	var kwargs map[string]any
	if len(req.Kwargs) > 0 {
		kwargs = make(map[string]any, len(req.Kwargs))
		keys := make([]string, 0, len(req.Kwargs))
		for k := range req.Kwargs {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the first bad one is reported, the same one every time
		for _, k := range keys {
			if err := h.checkName("keyword argument name", k); err != nil {
				return nil, nil, err
			}
			v, err := dec.Decode([]byte(req.Kwargs[k]))
			if err != nil {
				return nil, nil, fmt.Errorf("keyword argument %q: %w", k, err)
			}
			kwargs[k] = v
		}
	}
	return args, kwargs, nil
}
