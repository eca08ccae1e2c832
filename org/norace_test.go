//go:build !race

package org_test

const raceEnabled = false
