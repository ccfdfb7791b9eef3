package py

import "errors"

func fromGo(v any) (any, error) { return v, nil }
func convert(dst any, src any) error { return errors.New("py.Convert: not yet implemented") }
