"""Tables built from computed results, rendered to HTML, DOCX, XLSX and CSV."""
