package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/connector"
	"github.com/casebridge/casebridge/schedules"
)

// describeFormat names the layout of describe --json; a change that
// readers of saved files would notice gets a new number.
const describeFormat = "casebridge-describe/1"

// describeFile is what describe --json prints, and what fakeorg --schema
// reads back.
type describeFile struct {
	Format  string           `json:"format"`
	Objects []describeObject `json:"objects"`
}

type describeObject struct {
	Name   string   `json:"name"`
	Label  string   `json:"label"`
	Custom bool     `json:"custom"`
	UsedBy []string `json:"used_by"`
	// Fields is set when the object was asked for by name.
	Fields []describeField `json:"fields,omitempty"`
}

type describeField struct {
	Name          string   `json:"name"`
	Label         string   `json:"label"`
	Type          string   `json:"type"`
	Length        int      `json:"length"`
	Precision     int      `json:"precision"`
	Scale         int      `json:"scale"`
	Required      bool     `json:"required"`
	Nillable      bool     `json:"nillable"`
	Defaulted     bool     `json:"defaulted"`
	Createable    bool     `json:"createable"`
	Updateable    bool     `json:"updateable"`
	Calculated    bool     `json:"calculated"`
	ExternalID    bool     `json:"external_id"`
	Unique        bool     `json:"unique"`
	CaseSensitive bool     `json:"case_sensitive"`
	Picklist      []string `json:"picklist"`
	Restricted    bool     `json:"restricted"`
	ReferenceTo   []string `json:"reference_to"`
	Relationship  string   `json:"relationship"`
}

func (a *app) describeCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe CONFIG [OBJECT...]",
		Short: "List the org's objects, or an object's fields, types and picklist values",
		Long: `Log in to the org of CONFIG's salesforce section and print its schema: what a
configuration's field rules can name. Only describe calls are made (one call
for the list, one per object): no record is read or printed.

Without OBJECT: every object of the org, with its API name and label; USED BY
names the jobs of CONFIG whose object, child object or lookup is that object.

With OBJECT (an API name, such as vcms__Survivor_Case__c): its fields, one a
line, in the org's order:
  FIELD     the API name a rule's sf: takes
  LABEL     the name people see in Salesforce
  TYPE      string, textarea, picklist, multipicklist, boolean, int, double,
            currency, percent, date, datetime, email, phone, url, id, reference
  SIZE      a text field's maximum length in characters; a number's
            precision,scale (scale digits after the point)
  REQUIRED  yes: a new record must carry a value (not nillable, createable,
            no default): map it, or set it with constant:
  WRITE     create,update / create / update: what a write may set; read-only
            (formula, auto-number, system fields) cannot be written: give its
            rule direction: from_salesforce
  KEY       external id: a job's salesforce.key or a child's key may name it,
            and a lookup may search it; unique: no two records share a value
  VALUES    a picklist's values (restricted: Salesforce refuses others, so a
            rule's values: map must reach one of them); a reference's target
            objects (-> Account), for a lookup: rule; - when neither
Fields of types casebridge does not carry (address, location, base64) are left
out.

--json prints the same as one JSON document, for scripts and for
'casebridge fakeorg --schema FILE', which serves a saved description offline:
  {"format": "` + describeFormat + `",
   "objects": [{"name", "label", "custom", "used_by": [job...],
                "fields": [...]}]}     (fields only for the objects named)
and each field:
  {"name", "label", "type", "length", "precision", "scale",
   "required", "nillable", "defaulted", "createable", "updateable",
   "calculated", "external_id", "unique", "case_sensitive",
   "picklist": [value...], "restricted", "reference_to": [object...],
   "relationship"}
Names keep their meaning within a format; new members may be added.`,
		Example: `  casebridge describe casebridge.yaml
  casebridge describe casebridge.yaml vcms__Survivor_Case__c
  casebridge describe --json casebridge.yaml vcms__Survivor_Case__c Account > org.json
  casebridge fakeorg --schema org.json`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			cfg, err := a.loadConfig(argv[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			sf, err := schedules.OpenSalesforce(ctx, cfg, nil, nil)
			if err != nil {
				return withCode(exitError, fmt.Errorf("describe: %w", err))
			}
			usedBy := objectUsers(cfg)
			out := describeFile{Format: describeFormat, Objects: []describeObject{}}
			if len(argv) == 1 {
				list, err := sf.Objects(ctx)
				if err != nil {
					return withCode(exitError, fmt.Errorf("describe: %w", err))
				}
				for _, s := range list {
					out.Objects = append(out.Objects, describeObject{Name: s.Name, Label: s.Label, Custom: s.Custom, UsedBy: users(usedBy, s.Name)})
				}
			} else {
				if err := sf.DescribeAll(ctx, argv[1:]); err != nil {
					return withCode(exitError, fmt.Errorf("describe: %w", err))
				}
				for _, name := range argv[1:] {
					o, err := sf.Describe(ctx, name)
					if err != nil {
						return withCode(exitError, fmt.Errorf("describe: %w", err))
					}
					if o.Key == config.KeyByParent { // the connector's key of a child keyed by_parent, no field of the org
						o.Fields = slices.DeleteFunc(o.Fields, func(f connector.Field) bool { return f.Name == config.KeyByParent })
					}
					out.Objects = append(out.Objects, describedObject(o, users(usedBy, o.Name)))
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(argv) == 1 {
				printObjectList(a.stdout, out.Objects)
				return nil
			}
			for i, o := range out.Objects {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				printFields(a.stdout, o)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (its layout is in --help), e.g. to save for fakeorg --schema")
	return cmd
}

// objectUsers returns, by lower-case object name, the jobs of cfg naming
// the object: as their object, a child's object or a lookup's.
func objectUsers(cfg *config.Config) map[string][]string {
	out := map[string][]string{}
	add := func(object, job string) {
		k := strings.ToLower(object)
		if object != "" && !slices.Contains(out[k], job) {
			out[k] = append(out[k], job)
		}
	}
	for _, name := range cfg.JobNames() {
		j := cfg.Jobs[name]
		if j == nil {
			continue
		}
		add(j.Salesforce.Object, name)
		rules := slices.Clone(j.Fields)
		for _, ch := range j.Children {
			if ch != nil {
				add(ch.Object, name)
				rules = append(rules, ch.Fields...)
			}
		}
		for _, r := range rules {
			if r != nil && r.Lookup != nil {
				add(r.Lookup.Object, name)
			}
		}
	}
	return out
}

func users(m map[string][]string, object string) []string {
	u := m[strings.ToLower(object)]
	if u == nil {
		return []string{}
	}
	return u
}

func describedObject(o *connector.Object, usedBy []string) describeObject {
	d := describeObject{Name: o.Name, Label: o.Label, Custom: strings.HasSuffix(o.Name, "__c"), UsedBy: usedBy, Fields: []describeField{}}
	for _, f := range o.Fields {
		d.Fields = append(d.Fields, describeField{
			Name: f.Name, Label: f.Label, Type: string(f.Type), Length: f.Length, Precision: f.Precision, Scale: f.Scale,
			Required: !f.Nillable && f.Createable && !f.Defaulted, Nillable: f.Nillable, Defaulted: f.Defaulted,
			Createable: f.Createable, Updateable: f.Updateable, Calculated: f.Calculated,
			ExternalID: f.ExternalID, Unique: f.Unique, CaseSensitive: f.CaseSensitive,
			Picklist: nonNil(f.Picklist), Restricted: f.Restricted, ReferenceTo: nonNil(f.ReferenceTo), Relationship: f.Relationship,
		})
	}
	return d
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func printObjectList(w io.Writer, objects []describeObject) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tLABEL\tUSED BY")
	for _, o := range objects {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Name, o.Label, strings.Join(o.UsedBy, ", "))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d %s; 'casebridge describe CONFIG OBJECT' lists an object's fields\n", len(objects), plural(len(objects), "object", "objects"))
}

func printFields(w io.Writer, o describeObject) {
	used := ""
	if len(o.UsedBy) > 0 {
		used = ", used by " + strings.Join(o.UsedBy, ", ")
	}
	fmt.Fprintf(w, "%s (%s): %d %s%s\n", o.Name, o.Label, len(o.Fields), plural(len(o.Fields), "field", "fields"), used)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tLABEL\tTYPE\tSIZE\tREQUIRED\tWRITE\tKEY\tVALUES")
	for _, f := range o.Fields {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Label, f.Type, fieldSize(f), yesNo(f.Required), fieldWrite(f), fieldKey(f), fieldValues(f))
	}
	tw.Flush()
}

func fieldSize(f describeField) string {
	switch {
	case f.Length > 0:
		return strconv.Itoa(f.Length)
	case f.Precision > 0:
		return fmt.Sprintf("%d,%d", f.Precision, f.Scale)
	}
	return "-"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}

func fieldWrite(f describeField) string {
	switch {
	case f.Createable && f.Updateable:
		return "create,update"
	case f.Createable:
		return "create"
	case f.Updateable:
		return "update"
	}
	return "read-only"
}

func fieldKey(f describeField) string {
	var k []string
	if f.ExternalID {
		k = append(k, "external id")
	}
	if f.Unique {
		k = append(k, "unique")
	}
	if len(k) == 0 {
		return "-"
	}
	return strings.Join(k, ",")
}

func fieldValues(f describeField) string {
	switch {
	case len(f.Picklist) > 0:
		r := "(not restricted)"
		if f.Restricted {
			r = "(restricted)"
		}
		return strings.Join(f.Picklist, " | ") + " " + r
	case len(f.ReferenceTo) > 0:
		return "-> " + strings.Join(f.ReferenceTo, ", ")
	}
	return "-"
}

// readSchemaFile reads a file saved by describe --json as the objects
// sftest.Options.Schema takes: those described with their fields (an
// object listed without fields is skipped).
func readSchemaFile(path string) ([]*connector.Object, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d describeFile
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: not a file saved by casebridge describe --json: %w", path, err)
	}
	if d.Format != describeFormat {
		return nil, fmt.Errorf("%s: format %q, want %q (a file saved by casebridge describe --json)", path, d.Format, describeFormat)
	}
	var out []*connector.Object
	for _, do := range d.Objects {
		if len(do.Fields) == 0 {
			continue
		}
		o := &connector.Object{Name: do.Name, Label: do.Label, Key: "Id"}
		for _, df := range do.Fields {
			o.Fields = append(o.Fields, connector.Field{
				Name: df.Name, Label: df.Label, Type: connector.FieldType(df.Type), Length: df.Length, Precision: df.Precision, Scale: df.Scale,
				Nillable: df.Nillable, Defaulted: df.Defaulted, Createable: df.Createable, Updateable: df.Updateable,
				ExternalID: df.ExternalID, Unique: df.Unique, CaseSensitive: df.CaseSensitive, Calculated: df.Calculated,
				Picklist: df.Picklist, Restricted: df.Restricted, ReferenceTo: df.ReferenceTo, Relationship: df.Relationship,
			})
		}
		out = append(out, o)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no object with fields: save it with casebridge describe --json CONFIG OBJECT...", path)
	}
	return out, nil
}
