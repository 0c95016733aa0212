"""Registration and vetting of enterprises and researchers, and the tech-SME database."""
