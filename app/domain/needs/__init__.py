"""Technical needs: filing, completeness, the public need list, its search index and export."""
