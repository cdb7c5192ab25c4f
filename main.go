// Command heartbeat_exporter serves the heartbeat a mail-security gateway
// would phone home to its vendor as Prometheus metrics, for the operator.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/heartbeat-exporter/heartbeat_exporter/collector"
	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/procs"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/procs/startidle"
	"github.com/heartbeat-exporter/heartbeat_exporter/push"
)

// defaultListenAddress: the wiki's "Default port allocations" range 9100-9999
// is fully allocated, and the ports just above it (10023-10032) are where a
// mail gateway runs postgrey, amavis and postfix's re-injection; 10734 is on
// neither list (see README, TestDefaultPort).
const defaultListenAddress = ":10734"

func main() {
	os.Exit(run(os.Args[1:]))
}

type flags struct {
	web                    *web.FlagConfig
	telemetryPath          string
	maxRequests            int
	disableExporterMetrics bool
	configFile             string
	configCheck            bool
	printDefault           bool
	paths                  collector.Paths
	logLevel               string
	logFormat              string
	push                   push.Options
	webOpts                webOptions
	idleProcs              int
}

func parseFlags(args []string) (*flags, error) {
	app := kingpin.New(exporterName, "Serves a mail-security gateway's heartbeat (module versions, update times, mail counters, quarantine, core files, restarts, disk, load, memory, uptime) as Prometheus metrics.")
	f := &flags{web: kingpinflag.AddFlags(app, defaultListenAddress)}
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&f.telemetryPath)
	app.Flag("web.max-requests", "Maximum number of scrapes served at once; more are answered 503. 0 means no limit.").Default("40").IntVar(&f.maxRequests)
	app.Flag("web.disable-exporter-metrics", "Leave out the exporter's own go_*, process_* and promhttp_* metrics.").BoolVar(&f.disableExporterMetrics)
	app.Flag("config.file", "YAML configuration file. Without it the embedded default (a stock Debian mail gateway) is used.").StringVar(&f.configFile)
	app.Flag("config.check", "Validate the configuration, print the result and exit 0 (valid) or 1.").BoolVar(&f.configCheck)
	app.Flag("config.print-default", "Print the embedded default configuration and exit.").BoolVar(&f.printDefault)
	app.Flag("path.procfs", "procfs mountpoint.").Default("/proc").StringVar(&f.paths.Proc)
	app.Flag("path.sysfs", "sysfs mountpoint.").Default("/sys").StringVar(&f.paths.Sys)
	app.Flag("path.rootfs", "Root of the host's file system (e.g. /host in a container).").Default("/").StringVar(&f.paths.Root)
	app.Flag("runtime.gomaxprocs", "CPUs the Go runtime uses while it only serves scrapes (GOMAXPROCS); a log backlog, or a quarantine scan that reads folders, gets every CPU while it lasts. 0: the runtime's default, always.").
		Envar("GOMAXPROCS").Default("1").IntVar(&f.idleProcs)
	app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").EnumVar(&f.logLevel, "debug", "info", "warn", "error")
	app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").EnumVar(&f.logFormat, "logfmt", "json")
	addWebFlags(app, &f.webOpts)
	push.AddFlags(app, &f.push)
	collector.AddFlags(app, &f.paths)
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		return nil, err
	}
	if err := f.push.Check(); err != nil {
		return nil, err
	}
	return f, nil
}

func run(args []string) int {
	f, err := parseFlags(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", exporterName, err)
		return 2
	}
	if f.printDefault {
		os.Stdout.Write(config.DefaultYAML)
		return 0
	}
	if f.configCheck {
		return checkConfig(f.configFile, webConfigFile(f), f.paths.Root)
	}
	procs.Manage(f.idleProcs, startidle.CPUs)
	logger, slogger := newLoggers(f.logLevel, f.logFormat)
	_ = level.Info(logger).Log("msg", "starting "+exporterName, "version", version.Info(), "build_context", version.BuildContext())
	if err := checkWebConfig(webConfigFile(f)); err != nil {
		_ = level.Error(logger).Log("msg", "invalid --web.config.file", "err", err)
		return 1
	}

	pushMetrics := push.NewMetrics()
	exp, err := newExporter(logger, exporterOptions{
		configFile:             f.configFile,
		paths:                  f.paths,
		maxRequests:            f.maxRequests,
		disableExporterMetrics: f.disableExporterMetrics,
		selfCollectors:         pushMetrics.ServedWith(f.push),
	})
	if err != nil {
		_ = level.Error(logger).Log("msg", "cannot load configuration", "err", err)
		return 1
	}
	defer exp.Close()
	_ = level.Info(logger).Log("msg", "collectors enabled", "collectors", fmt.Sprint(exp.set.Load().Enabled()))

	mux, err := newMux(exp, f)
	if err != nil {
		_ = level.Error(logger).Log("msg", "cannot build landing page", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go reloadOnHangup(ctx, exp, logger)
	pushDone, err := push.Start(ctx, f.push, exp.pushSource(), pushMetrics, logger)
	if err != nil {
		_ = level.Error(logger).Log("msg", "cannot set up push mode", "err", err)
		return 1
	}

	servers, serveErr, err := serveWeb(f.web, f.webOpts, mux, slogger)
	if err != nil {
		_ = level.Error(logger).Log("msg", "cannot listen", "err", err)
		return 1
	}
	select {
	case err := <-serveErr:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = level.Error(logger).Log("msg", "web server failed", "err", err)
			return 1
		}
	case <-ctx.Done():
		_ = level.Info(logger).Log("msg", "shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		servers.Shutdown(shutdownCtx)
		pushDone()
	}
	return 0
}

func newMux(exp *exporter, f *flags) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	mux.Handle(f.telemetryPath, exp)
	if f.webOpts.enableLifecycle {
		mux.HandleFunc("/-/reload", exp.reloadHandler)
	}
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	if f.telemetryPath == "/" {
		return mux, nil
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        exporterName,
		Description: "The heartbeat of a mail-security gateway, for its operator.",
		Version:     version.Info(),
		// No /debug/pprof handlers are served: no links to them.
		Profiling: "false",
		Links: []web.LandingLinks{
			{Address: f.telemetryPath, Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
		},
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("/", landing)
	return mux, nil
}

func reloadOnHangup(ctx context.Context, exp *exporter, logger log.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := exp.reload(); err != nil {
				_ = level.Error(logger).Log("msg", "configuration reload refused, keeping the previous one", "err", err)
				continue
			}
			_ = level.Info(logger).Log("msg", "configuration reloaded on SIGHUP")
		}
	}
}

// checkConfig validates the configuration and the web configuration
// (when given), printing each one's result.
func checkConfig(file, webFile, root string) int {
	name := file
	if name == "" {
		name = config.DefaultName
	}
	code := 0
	if cfg, err := config.Load(file); err != nil {
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprintf(os.Stderr, "%s: configuration is NOT valid\n", name)
		code = 1
	} else {
		for _, w := range missingPaths(cfg, root) {
			fmt.Fprintf(os.Stderr, "%s: warning: %s\n", name, w)
		}
		fmt.Printf("%s: configuration is valid\n", name)
	}
	if webFile == "" {
		return code
	}
	if err := checkWebConfig(webFile); err != nil {
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprintf(os.Stderr, "%s: web configuration is NOT valid\n", webFile)
		return 1
	}
	fmt.Printf("%s: web configuration is valid\n", webFile)
	return code
}

// webConfigFile is the --web.config.file flag's value.
func webConfigFile(f *flags) string {
	if f.web.WebConfigFile == nil {
		return ""
	}
	return *f.web.WebConfigFile
}

// newLoggers builds the go-kit logger the exporter uses and an slog view of
// it for exporter-toolkit, so both write one stream in one format.
func newLoggers(lvl, format string) (log.Logger, *slog.Logger) {
	var logger log.Logger
	if format == "json" {
		logger = log.NewJSONLogger(log.NewSyncWriter(os.Stderr))
	} else {
		logger = log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	}
	logger = orderedLogger{logger}
	var slogLevel slog.Level
	switch lvl {
	case "debug":
		logger = level.NewFilter(logger, level.AllowDebug())
		slogLevel = slog.LevelDebug
	case "warn":
		logger = level.NewFilter(logger, level.AllowWarn())
		slogLevel = slog.LevelWarn
	case "error":
		logger = level.NewFilter(logger, level.AllowError())
		slogLevel = slog.LevelError
	default:
		logger = level.NewFilter(logger, level.AllowInfo())
		slogLevel = slog.LevelInfo
	}
	// The slog handler adds ts and caller from the record, so it gets the
	// logger before ours are added.
	bridge := slog.New(&slogHandler{logger: logger, level: slogLevel})
	return log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller), bridge
}
