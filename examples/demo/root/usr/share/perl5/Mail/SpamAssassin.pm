# The head of Mail/SpamAssassin.pm as Debian 12 installs SpamAssassin 4.0.1
# (crafted for the tests: only the lines the exporter reads).
package Mail::SpamAssassin;
use strict;

our $VERSION = "4.000001";      # update after release (same format as perl $])
#our $IS_DEVEL_BUILD = 1;        # 1 for devel build
our $IS_DEVEL_BUILD = 0;        # 0 for release versions including rc & pre releases
