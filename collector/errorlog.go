package collector

// errorLog remembers the failure last logged for one source, so that a
// failure which lasts is logged when it appears or its text changes, and its
// end once, instead of at every scrape or poll. The caller does the logging:
// each source has its own message and level.
type errorLog struct{ last string }

// Observe records err (nil: no failure) and says whether to log it (new or
// changed text) or to log a recovery (a failure has just ended).
func (l *errorLog) Observe(err error) (report, recovered bool) {
	if err == nil {
		return l.ObserveText("")
	}
	return l.ObserveText(err.Error())
}

// ObserveText is Observe for a failure already described as text, "" for
// none.
func (l *errorLog) ObserveText(msg string) (report, recovered bool) {
	prev := l.last
	l.last = msg
	return msg != "" && msg != prev, msg == "" && prev != ""
}

// Text is the failure last observed, "" for none.
func (l *errorLog) Text() string { return l.last }
