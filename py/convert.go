package py

// This file is a placeholder with the final signatures; the reflection
// rules are being written in fromgo.go / convert_to.go.

// FromGo converts an ordinary Go value into the model (see the package
// doc). Model values and ClassDicter values are returned unchanged
// (containers are converted element by element when they hold non-model
// values). It fails for values Python cannot represent (channels, funcs).
func FromGo(v any) (any, error) {
	return fromGo(v)
}

// Convert stores the model value src into the Go value that dst points to,
// converting as described in the package doc. Errors are *ConvertError and
// name the path to the offending element.
func Convert(dst any, src any) error {
	return convert(dst, src)
}
