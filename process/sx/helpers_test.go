package sx_test

import (
	"errors"
	"strconv"
)

func strconvG(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }
