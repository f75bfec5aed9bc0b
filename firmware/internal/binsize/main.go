// Command binsize checks that a stripped binary stays within its budget
// and says what it is made of: `make test-size` builds armv7 callboxd
// twice (stripped, as shipped, and with its symbol table) and runs
//
//	binsize -max-mib 20 STRIPPED FULL
//
// It prints the stripped size and the biggest contributors by module and
// by package (code, read-only data and data of each package's symbols in
// FULL, and its code's share of the line tables; the other runtime
// metadata is listed apart), and exits 1 when STRIPPED is over the budget.
// With -dumpdep FILE (the linker's -dumpdep output of the FULL build) it
// also names the functions that call reflect's Method or MethodByName with
// a name known only at run time, and exits 1 if there is one: any one of
// them makes the linker keep every exported method of every type stored in
// an interface.
package main

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

func main() {
	maxMiB := flag.Float64("max-mib", 20, "the budget of the stripped binary, MiB")
	top := flag.Int("top", 15, "how many packages and modules to list")
	dumpdep := flag.String("dumpdep", "", "the linker's -dumpdep output of FULL, to name the reflective method callers")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: binsize [-max-mib N] [-top N] [-dumpdep FILE] STRIPPED FULL")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	over, err := report(os.Stdout, flag.Arg(0), flag.Arg(1), int64(*maxMiB*(1<<20)), *top)
	if err != nil {
		fmt.Fprintf(os.Stderr, "binsize: %v\n", err)
		os.Exit(2)
	}
	if *dumpdep != "" {
		found, err := reportReflect(os.Stdout, *dumpdep)
		if err != nil {
			fmt.Fprintf(os.Stderr, "binsize: %v\n", err)
			os.Exit(2)
		}
		over = over || found // such a call costs megabytes: refuse it
	}
	if over {
		os.Exit(1)
	}
}

// reportReflect names the reflective method callers in the dumpdep file
// and reports whether there are any.
func reportReflect(w io.Writer, path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	callers, err := reflectMethodCallers(f)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if len(callers) == 0 {
		fmt.Fprintln(w, "no reflective method calls: the linker drops unused exported methods")
		return false, nil
	}
	fmt.Fprintln(w, "these call reflect's Method or MethodByName with a run-time name, so every exported method of every type stored in an interface stays linked:")
	for _, c := range callers {
		fmt.Fprintf(w, "  %s\n", c)
	}
	return true, nil
}

// reflectMethodCallers reads the linker's -dumpdep lines ("from -> to",
// each symbol followed by its flags) and returns the reachable functions
// flagged <ReflectMethod> outside package reflect (whose own wrappers are
// only reached through them).
func reflectMethodCallers(r io.Reader) ([]string, error) {
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		for _, sym := range []string{from, to} {
			name, flags, _ := strings.Cut(sym, " <")
			if strings.Contains(flags, "ReflectMethod>") && !strings.HasPrefix(name, "reflect.") {
				seen[name] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	callers := make([]string, 0, len(seen))
	for name := range seen {
		callers = append(callers, name)
	}
	slices.Sort(callers)
	return callers, nil
}

// report writes the sizes and reports whether stripped is over max bytes.
func report(w io.Writer, stripped, full string, max int64, top int) (bool, error) {
	st, err := os.Stat(stripped)
	if err != nil {
		return false, err
	}
	sizes, err := measure(full)
	if err != nil {
		return false, err
	}
	size := st.Size()
	verdict := "within"
	if size > max {
		verdict = "OVER"
	}
	fmt.Fprintf(w, "binsize: %s is %.2f MiB (%d bytes), %s the budget of %.2f MiB\n", stripped, mib(size), size, verdict, mib(max))
	fmt.Fprintf(w, "by module (code, rodata and data of their symbols, and their code's share of the line tables):\n")
	printTop(w, sizes.modules, top, size)
	fmt.Fprintf(w, "by package:\n")
	printTop(w, sizes.packages, top, size)
	fmt.Fprintf(w, "not by package: %.2f MiB of runtime metadata and strings (the line tables, %.2f MiB, are shared out above)\n",
		mib(sizes.other), mib(sizes.pclntab))
	return size > max, nil
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func printTop(w io.Writer, m map[string]int64, n int, total int64) {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if a.v != b.v {
			return int(b.v - a.v)
		}
		return strings.Compare(a.k, b.k)
	})
	for i, e := range all {
		if i == n {
			var rest int64
			for _, r := range all[n:] {
				rest += r.v
			}
			fmt.Fprintf(w, "  %7.2f MiB %5.1f%%  (%d more)\n", mib(rest), pct(rest, total), len(all)-n)
			break
		}
		fmt.Fprintf(w, "  %7.2f MiB %5.1f%%  %s\n", mib(e.v), pct(e.v, total), e.k)
	}
}

func pct(n, total int64) float64 { return 100 * float64(n) / float64(total) }

// sizes is what a binary's symbols add up to.
type sizes struct {
	packages, modules map[string]int64
	pclntab, other    int64
}

// measure attributes the bytes of every symbol the file stores (not
// .bss) to its package, and the package to its module.
func measure(path string) (sizes, error) {
	s := sizes{packages: map[string]int64{}, modules: map[string]int64{}}
	f, err := elf.Open(path)
	if err != nil {
		return s, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return s, fmt.Errorf("%s: %w (build it without -s -w)", path, err)
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return s, err
	}
	mods := []string{bi.Main.Path}
	for _, d := range bi.Deps {
		mods = append(mods, d.Path)
	}
	stored := func(i elf.SectionIndex) bool {
		return int(i) < len(f.Sections) && f.Sections[i].Type != elf.SHT_NOBITS && f.Sections[i].Flags&elf.SHF_ALLOC != 0
	}
	var attributed, allCode int64
	code := map[string]int64{}
	for _, sym := range syms {
		if !stored(sym.Section) || sym.Size == 0 {
			continue
		}
		sec := f.Sections[sym.Section].Name
		if sec == ".gopclntab" {
			continue // shared out below
		}
		pkg := packageOf(sym.Name)
		if pkg == "" {
			continue
		}
		n := int64(sym.Size)
		s.packages[pkg] += n
		attributed += n
		if sec == ".text" {
			code[pkg] += n
			allCode += n
		}
	}
	var total int64
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NOBITS || sec.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		total += int64(sec.Size)
		if sec.Name == ".gopclntab" {
			s.pclntab = int64(sec.Size)
		}
	}
	// The line tables describe the functions: each package is charged its
	// code's share of them.
	for pkg, n := range code {
		s.packages[pkg] += s.pclntab * n / allCode
	}
	for pkg, n := range s.packages {
		s.modules[moduleOf(pkg, mods)] += n
	}
	s.other = max(total-s.pclntab-attributed, 0)
	return s, nil
}

// packageOf returns the import path of a Go symbol's package, "" for the
// linker's own symbols (go:string.*, go:func.*, runtime metadata of
// unnamed types).
func packageOf(sym string) string {
	name, isType := strings.CutPrefix(sym, "type:")
	if strings.HasPrefix(name, "go:") || strings.HasPrefix(name, "go.") {
		return ""
	}
	if isType {
		name = strings.TrimLeft(name, "*")
		for _, p := range []string{".eq.", ".hash.", ".namedata.", ".importpath."} {
			name = strings.TrimPrefix(name, p)
		}
		name = strings.TrimLeft(name, "*")
	}
	// Type arguments and unnamed types carry dots and slashes of their own.
	if i := strings.IndexAny(name, "[({ "); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot <= 0 {
		return ""
	}
	return name[:slash+1+dot]
}

// moduleOf returns the longest module path that holds pkg, "std" for the
// standard library (its vendored packages included).
func moduleOf(pkg string, mods []string) string {
	best := ""
	for _, m := range mods {
		if (pkg == m || strings.HasPrefix(pkg, m+"/")) && len(m) > len(best) {
			best = m
		}
	}
	if best != "" {
		return best
	}
	first, _, _ := strings.Cut(pkg, "/")
	if !strings.Contains(first, ".") {
		return "std"
	}
	return pkg
}
