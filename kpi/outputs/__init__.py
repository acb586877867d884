"""CSV, Excel, index, zip, HTML and PDF rendering, the Báo cáo DOCX, reminders."""
