package classify

//go:generate go run ./internal/ouigen -dir /usr/share/ieee-data -out oui.tsv.gz
