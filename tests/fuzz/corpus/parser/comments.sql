-- leading comment
/* block ; comment */ SELECT 1 /* inline */ ; -- trailing
;;
