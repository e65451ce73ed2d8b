package profile

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Quantities are written the Kubernetes way: "256Mi", "1G", "0.5", "500m". These parse
// them exactly (no floating point) and refuse anything charter would not write back.

var quantityPattern = regexp.MustCompile(`^([0-9]{1,19})(\.([0-9]{1,9}))?([A-Za-z]{0,2})$`)

var memorySuffixes = map[string]int64{
	"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
}

// maxQuantity keeps every quantity far from int64 overflow in later arithmetic.
const maxQuantity = 1 << 62

// scaled returns digits×mult, with the fractional part, rounded up to a whole unit.
func scaled(s string, mults map[string]int64) (int64, error) {
	m := quantityPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a quantity", s)
	}
	mult, ok := mults[m[4]]
	if !ok {
		return 0, fmt.Errorf("%q: unknown suffix %q", s, m[4])
	}
	v, _ := new(big.Int).SetString(m[1]+m[3], 10)
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(m[3]))), nil)
	v.Mul(v, big.NewInt(mult))
	q, r := new(big.Int).QuoRem(v, den, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > maxQuantity {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if q.Sign() == 0 {
		return 0, fmt.Errorf("%q: must be more than zero", s)
	}
	return q.Int64(), nil
}

// ParseMemory reads a memory size in bytes: "256Mi", "1G", "1048576", "1.5Gi".
func ParseMemory(s string) (int64, error) { return scaled(s, memorySuffixes) }

// ParseCPU reads a CPU amount in thousandths of a core: "0.5" and "500m" are 500.
func ParseCPU(s string) (int64, error) {
	if strings.HasSuffix(s, "m") {
		return scaled(strings.TrimSuffix(s, "m"), map[string]int64{"": 1})
	}
	return scaled(s, map[string]int64{"": 1000})
}

// FormatMemory writes bytes in the largest binary unit that divides them ("256Mi").
func FormatMemory(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Ei", 1 << 60}, {"Pi", 1 << 50}, {"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// FormatCPU writes thousandths of a core as Kubernetes does: "2", "500m".
func FormatCPU(milli int64) string {
	if milli%1000 == 0 {
		return strconv.FormatInt(milli/1000, 10)
	}
	return strconv.FormatInt(milli, 10) + "m"
}

// decimalCPU writes thousandths of a core as a decimal number of cores ("0.5", "2"),
// as Docker's --cpus and compose's cpus read it.
func decimalCPU(milli int64) string {
	s := strconv.FormatInt(milli/1000, 10)
	if frac := milli % 1000; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	}
	return s
}

// dockerMemory writes bytes in Docker's units (binary k, m, g), or plain bytes.
func dockerMemory(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
