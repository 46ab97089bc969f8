"""Report sections: each function takes a :class:`~analysis.report.context.ReportContext`,
computes with the analysis modules and displays headings, cards, tables, charts and
takeaways. Notebooks call these, one cell per section, so they stay thin."""
