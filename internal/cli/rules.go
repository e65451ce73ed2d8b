package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/report"
)

func newRulesCmd(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules [ID]",
		Short: "List every rule, or explain one (charter IDs and peer aliases such as DL3008 both work)",
		Example: "  charter rules\n" +
			"  charter rules DF004\n" +
			"  charter rules DL3008          # the charter rule that carries hadolint's DL3008\n" +
			"  charter rules --format json",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("unknown format %q (want table or json)", format)
			}
			cat := catalog()
			if len(args) == 0 {
				if format == "json" {
					return writeJSON(env.Stdout, cat.All())
				}
				return listRules(env.Stdout, cat.All())
			}
			id := strings.TrimSpace(args[0])
			r, ok := cat.Lookup(id) // as written first: pss:runAsNonRoot is mixed-case
			if !ok {
				id = strings.ToUpper(id)
				r, ok = cat.Lookup(id)
			}
			if !ok {
				return fmt.Errorf("no rule %q (run 'charter rules' for the list)", args[0])
			}
			if format == "json" {
				return writeJSON(env.Stdout, r)
			}
			return explainRule(env.Stdout, r, id)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "table", "output format: table or json")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func listRules(w io.Writer, rules []report.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tALIASES\tTITLE")
	for _, r := range rules {
		aliases := strings.Join(r.Aliases, ",")
		if aliases == "" {
			aliases = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, aliases, r.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d rules. 'charter rules ID' explains one.\n", len(rules))
	return err
}

func explainRule(w io.Writer, r report.Rule, asked string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  (%s)\n", r.ID, r.Title, r.Severity)
	if asked != r.ID {
		fmt.Fprintf(&b, "%s is an alias of %s.\n", asked, r.ID)
	}
	if len(r.Aliases) > 0 {
		fmt.Fprintf(&b, "Aliases: %s\n", strings.Join(r.Aliases, ", "))
	}
	if r.Category != "" {
		fmt.Fprintf(&b, "Category: %s\n", r.Category)
	}
	fmt.Fprintf(&b, "\n%s\n\nRemediation:\n  %s\n", wrap(r.Description, 88, ""), wrap(r.Remediation, 86, "  "))
	if r.Example != "" {
		b.WriteString("\nExample:\n")
		for _, l := range strings.Split(strings.TrimRight(r.Example, "\n"), "\n") {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	if len(r.References) > 0 {
		b.WriteString("\nReferences:\n")
		for _, ref := range r.References {
			fmt.Fprintf(&b, "  %s\n", ref)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap breaks text into lines of at most width characters, indenting continuation lines.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		if n > 0 && n+1+len(word) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
