COPY stores FROM 'stores.csv' WITH (format = 'csv', header = true, delimiter = ';');
