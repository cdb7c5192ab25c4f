package mixin

import (
	"encoding/json"
	"strings"
)

// Dashboard is the part of Grafana's dashboard JSON the checks read.
type Dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Panel is one dashboard panel.
type Panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr       string `json:"expr"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
}

// ParseDashboards decodes rendered dashboards by file name.
func ParseDashboards(files map[string]string) (map[string]Dashboard, error) {
	out := map[string]Dashboard{}
	for name, content := range files {
		if !strings.HasPrefix(name, "dashboards/") {
			continue
		}
		var d Dashboard
		if err := json.Unmarshal([]byte(content), &d); err != nil {
			return nil, err
		}
		out[name] = d
	}
	return out, nil
}
