// Package supply is the supply-chain engine of Lodestone.
package supply
