<?php

return [
    'default' => 's3',
    'disks' => [
        's3' => [
            'driver' => 's3',
            'credentials' => [
                'key'    => 'AKIALTGXSBTVB7VJANIY',
                'secret' => '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',
            ],
            'region' => 'eu-central-1',
            'bucket' => 'acme-invoices',
        ],
    ],
];
