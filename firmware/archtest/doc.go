// Package archtest holds the test that enforces ARCHITECTURE.md's import
// rules over the whole module.
package archtest
